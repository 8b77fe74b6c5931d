import Foundation
import LogStore
import Plot
import Testing

@testable import App

/// The dashboard's one escaping place and its one log renderer (docs/dashboard.md).
@Suite struct DashboardRenderingTests {
    // MARK: - Escaping

    @Test func escape_coversTextAndQuotedAttributes() {
        #expect(
            HTMLEscape.escape(#"<script>alert("x")</script> & 'y'"#)
                == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;")
        // Plot passes entity-looking text through; the escaper does not: the user sees what they typed.
        #expect(HTMLEscape.escape("&lt;b&gt;") == "&amp;lt;b&amp;gt;")
        #expect(HTMLEscape.escape("plain ✓ 🚀") == "plain ✓ 🚀")
    }

    @Test func plotHelpers_escapeTextAndAttributes() {
        let payload = #"x" onmouseover="alert(1)"><img src=x onerror=alert(2)>&amp;"#
        let node: Node<HTML.BodyContext> = .div(.safeAttribute("title", payload), .safe(payload))
        let html = node.render()
        #expect(!html.contains("<img"))
        #expect(!html.contains(#"" onmouseover"#))
        #expect(html.contains("&amp;amp;"))
        let input: Node<HTML.BodyContext> = .input(.type(.text), .safe("value", payload))
        #expect(!input.render().contains(#"" onmouseover"#))
        let select: Node<HTML.BodyContext> = .choice(name: "s", [(payload, payload)], selected: payload)
        #expect(!select.render().contains("<img"))
        #expect(select.render().contains(" selected>"))
    }

    // MARK: - ANSI → HTML

    func render(_ text: String, highlights: [LogHighlight] = []) -> String {
        let line = LogLine(
            seq: 1, step: "Build", timestamp: nil, level: nil, bytes: Array(text.utf8), highlights: highlights)
        return LogLineHTML.text(line)
    }

    @Test func sgrColours_becomeClasses() {
        #expect(render("\u{1B}[31mred\u{1B}[0m plain") == #"<span class="f1">red</span> plain"#)
        #expect(render("\u{1B}[91mbright") == #"<span class="f9">bright</span>"#)
        #expect(render("\u{1B}[42mbg") == #"<span class="b2">bg</span>"#)
        #expect(render("\u{1B}[38;5;208morange") == #"<span class="f208">orange</span>"#)
        #expect(render("\u{1B}[48;5;17mnavy") == #"<span class="b17">navy</span>"#)
        // Truecolor has no class of its own: the nearest palette colour (CSP forbids inline styles).
        #expect(render("\u{1B}[38;2;255;0;0mtrue") == #"<span class="f196">true</span>"#)
        #expect(render("\u{1B}[38;2;128;128;128mgrey") == #"<span class="f244">grey</span>"#)
        #expect(
            render("\u{1B}[1;3;4mbiu\u{1B}[22mx") == #"<span class="sb si su">biu</span><span class="si su">x</span>"#)
        #expect(render("\u{1B}[2;9md\u{1B}[29;39m") == #"<span class="sd ss">d</span>"#)
        #expect(
            render("\u{1B}[31;42mx\u{1B}[39my\u{1B}[49mz") == #"<span class="f1 b2">x</span><span class="b2">y</span>z"#
        )
        #expect(render("\u{1B}[31mx\u{1B}[mz") == #"<span class="f1">x</span>z"#)
    }

    @Test func otherEscapes_areDropped_andTextIsEscaped() {
        #expect(render("\u{1B}[2K\u{1B}]0;title\u{07}\u{1B}(Bok") == "ok")
        #expect(render("\u{1B}[31m<b>&\u{1B}[0m") == #"<span class="f1">&lt;b&gt;&amp;</span>"#)
        #expect(render("nul\u{00}bell\u{07}") == "nul\u{FFFD}bell\u{FFFD}")
        #expect(render("\u{1B}[5;7;53mblink") == "blink")  // blink, inverse, overline: ignored
    }

    @Test func carriageReturnProgress_showsTheLastSegment() {
        #expect(render("10%\r50%\r100%") == "100%")
        #expect(render("\u{1B}[32m10%\r100%") == #"<span class="f2">100%</span>"#)  // the style carries over
        #expect(render("done\r") == "done")  // a CRLF line end is not progress
        #expect(render("a\r\u{1B}[0m") == "a")
    }

    @Test func highlights_useTheAPIsUTF16Offsets_acrossRuns() {
        // plainText "🚀 ab cd": the emoji is two UTF-16 units, so "ab" is 3..<5 and "cd" 6..<8.
        let html = render(
            "🚀 \u{1B}[31mab\u{1B}[0m cd", highlights: [LogHighlight(start: 3, end: 5), LogHighlight(start: 6, end: 8)])
        #expect(html == #"🚀 <span class="f1"><mark>ab</mark></span> <mark>cd</mark>"#)
        let across = render("\u{1B}[31mab\u{1B}[32mcd", highlights: [LogHighlight(start: 1, end: 3)])
        #expect(
            across
                == #"<span class="f1">a</span><span class="f1"><mark>b</mark></span><span class="f2"><mark>c</mark></span><span class="f2">d</span>"#
        )
        // After a `\r` only the last segment shows; offsets still count from the start of plainText.
        #expect(render("x\rfound", highlights: [LogHighlight(start: 2, end: 7)]) == "<mark>found</mark>")
    }

    @Test func row_carriesPermalinkLevelAndEscapedStep() {
        let line = LogLine(
            seq: 42, step: #"<Deploy "prod">"#, timestamp: Date(timeIntervalSince1970: 1_700_000_000), level: .error,
            bytes: Array("boom".utf8))
        let row = LogLineHTML.row(line)
        #expect(
            row.hasPrefix(
                #"<div class="ln lv-error" id="L42" data-seq="42" data-step="&lt;Deploy &quot;prod&quot;&gt;">"#))
        #expect(row.contains(##"<a class="no" href="#L42">42</a>"##))
        #expect(row.contains(#"<span class="ts">22:13:20</span>"#))
    }

    @Test func palette_liftsUnreadableColours_onTheConsole() {
        #expect(ANSIPalette.luminance(ANSIPalette.lifted(ANSIPalette.rgb(0))) >= 0.12)
        #expect(ANSIPalette.luminance(ANSIPalette.lifted(ANSIPalette.rgb(232))) >= 0.12)
        #expect(ANSIPalette.hex(ANSIPalette.lifted(ANSIPalette.rgb(15))) == "#ffffff")
        let css = ANSIPalette.css()
        #expect(css.contains(".f196{color:#ff0000}"))
        #expect(css.contains(".b0{background:#000000}"))
        #expect(css.components(separatedBy: "\n").filter { $0.hasPrefix(".f") }.count == 256)
    }

    @Test func svgChart_escapesLabels() {
        let svg = SVGChart.bars(title: "<t>", [.init(label: "<script>", value: 3, caption: "3 & more")])
        #expect(!svg.contains("<script>"))
        #expect(svg.contains("&lt;script&gt;"))
        #expect(svg.contains("3 &amp; more"))
    }
}
