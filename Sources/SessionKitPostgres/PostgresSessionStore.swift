import PostgresNIO
import SessionKit
