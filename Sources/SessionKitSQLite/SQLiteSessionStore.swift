import SessionKit
import SQLiteNIO
