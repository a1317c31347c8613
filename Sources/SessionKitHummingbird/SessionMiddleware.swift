import Hummingbird
import SessionKit
