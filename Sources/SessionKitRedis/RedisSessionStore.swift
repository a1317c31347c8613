import NIOCore
import SessionKit
