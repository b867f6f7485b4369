import Testing
@testable import Dockerfile
@Test func placeholder() {}
