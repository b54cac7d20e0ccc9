import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Times, durations and cleaned-up text as events show them: in mails and webhooks (``MailMessage`` in
/// VMManagerDelivery), the agent's log and saved-state details, and Pacemaker alerts.
public enum EventText {
    /// Control characters other than tab become spaces.
    public static func cleanControls<S: StringProtocol>(_ s: S) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.map {
                    ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7f || (0x80..<0xa0).contains($0.value)
                        || $0 == "\u{2028}" || $0 == "\u{2029}" ? " " : $0
                }))
    }

    /// Letters, digits and `-` only (a transition name in a header).
    public static func token(_ value: String) -> String {
        let safe = value.unicodeScalars.map {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) ? $0 : "-"
        }
        return String(String.UnicodeScalarView(safe))
    }

    /// `Tue, 07 May 2024 14:03:09 +0000` (RFC 5322 3.3), always in UTC.
    public static func rfc5322Date(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tm = tm()
        gmtime_r(&t, &tm)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(days[Int(tm.tm_wday)]), \(pad(tm.tm_mday)) \(months[Int(tm.tm_mon)]) \(tm.tm_year + 1900) "
            + "\(pad(tm.tm_hour)):\(pad(tm.tm_min)):\(pad(tm.tm_sec)) +0000"
    }

    /// `2024-05-07T14:03:09.123Z`.
    public static func iso8601(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        let ms = min(999, Int(((date.timeIntervalSince1970 - seconds) * 1000).rounded(.down)))
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return "\(tm.tm_year + 1900)-\(pad(tm.tm_mon + 1))-\(pad(tm.tm_mday))T"
            + "\(pad(tm.tm_hour)):\(pad(tm.tm_min)):\(pad(tm.tm_sec)).\(msText)Z"
    }

    static func pad(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }

    public static func formatSeconds(_ s: Double) -> String {
        let hundredths = Int((s * 100).rounded())
        let frac = abs(hundredths) % 100
        return "\(hundredths < 0 ? "-" : "")\(abs(hundredths) / 100).\(frac < 10 ? "0" : "")\(frac) s"
    }

    /// `3 d 04:05:06` / `04:05:06`, like uptime(1).
    public static func formatUptime(_ s: Double) -> String {
        let total = Int(s)
        let days = total / 86400
        let rest = total % 86400
        let hms = "\(pad(Int32(rest / 3600))):\(pad(Int32(rest % 3600 / 60))):\(pad(Int32(rest % 60)))"
        return days > 0 ? "\(days) d \(hms)" : hms
    }
}
