import PipewrightCore
import Testing

@Suite struct PageRequestTests {
    @Test func pageRequest_defaultsAndClamps() throws {
        let defaults = try PageRequest(page: nil, perPage: nil)
        #expect(defaults.page == 1 && defaults.perPage == 20)
        let clamped = try PageRequest(page: 3, perPage: 1000)
        #expect(clamped.perPage == 100)
        #expect(clamped.offset == 200)
    }

    @Test(arguments: [
        (0, 20, "page"), (-1, 20, "page"), (1, 0, "per_page"), (1, -5, "per_page"), (Int.max, 100, "page"),
        (1_000_001, 20, "page"),
    ])
    func pageRequest_rejectsOutOfRange(page: Int, perPage: Int, field: String) {
        #expect(throws: PageRequest.Invalid.self) { try PageRequest(page: page, perPage: perPage) }
        do {
            _ = try PageRequest(page: page, perPage: perPage)
        } catch {
            #expect(error.field == field)
        }
    }

    @Test func pageCount_roundsUp() throws {
        let request = try PageRequest(page: 1, perPage: 20)
        #expect(request.pageCount(total: 0) == 0)
        #expect(request.pageCount(total: 20) == 1)
        #expect(request.pageCount(total: 21) == 2)
    }
}
