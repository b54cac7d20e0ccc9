import FoundationEssentials
import VMManager
internal import CCurl

/// libcurl, the only place the notifier calls it: one SMTP submission and one HTTP POST.
///
/// Every call here blocks; callers run them on a thread of their own (``Notifier/deliverPending(waitForOtherFlush:)``
/// does), never on Swift's cooperative pool. libcurl is told never to raise signals (`CURLOPT_NOSIGNAL`), since
/// the process is multi-threaded.
enum Curl {
    /// A failed transfer: libcurl's code and message, and the last SMTP or HTTP response code if one came.
    struct Failure: Error, CustomStringConvertible, Sendable {
        let code: Int32
        let message: String
        let responseCode: Int

        var description: String {
            responseCode >= 400 ? "\(message) (server answered \(responseCode))" : message
        }

        /// The server's certificate or name did not verify.
        var isTLSVerification: Bool {
            code == Int32(CURLE_PEER_FAILED_VERIFICATION.rawValue) || code == Int32(CURLE_SSL_CACERT_BADFILE.rawValue)
        }
    }

    /// TLS as the configuration says.
    struct TLS: Sendable {
        var verify: Bool
        var caFile: String?
    }

    /// One message to submit.
    struct SMTPRequest: Sendable {
        var url: String
        var from: String
        var recipients: [String]
        var message: [UInt8]
        var startTLS: NotifySettings.StartTLS
        var user: String?
        var password: String?
        var tls: TLS
        var timeout: Duration
    }

    /// One JSON POST.
    struct HTTPRequest: Sendable {
        var url: String
        var body: [UInt8]
        var headers: [String]
        var tls: TLS
        var timeout: Duration
    }

    struct HTTPResponse: Sendable {
        var status: Int
        /// The start of the response body, for error messages.
        var body: String
    }

    private static let initialized: Bool = vmm_curl_global_init() == CURLE_OK

    /// An easy handle. Reusing one across transfers to the same server lets libcurl keep the connection.
    final class Handle {
        fileprivate let raw: UnsafeMutableRawPointer
        fileprivate let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

        init?() {
            guard Curl.initialized, let raw = curl_easy_init() else { return nil }
            self.raw = raw
        }

        deinit {
            curl_easy_cleanup(raw)
            errorBuffer.deallocate()
        }

        /// Back to defaults (keeps the connection cache), then the options every transfer needs.
        fileprivate func reset(url: String, tls: TLS, timeout: Duration) {
            curl_easy_reset(raw)
            errorBuffer[0] = 0
            _ = vmm_curl_setopt_pointer(raw, CURLOPT_ERRORBUFFER, errorBuffer)
            _ = vmm_curl_setopt_string(raw, CURLOPT_URL, url)
            _ = vmm_curl_setopt_long(raw, CURLOPT_NOSIGNAL, 1)
            let (seconds, attoseconds) = timeout.components
            let ms = max(1, Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000))
            _ = vmm_curl_setopt_long(raw, CURLOPT_TIMEOUT_MS, ms)
            _ = vmm_curl_setopt_long(raw, CURLOPT_CONNECTTIMEOUT_MS, min(ms, 10_000))
            _ = vmm_curl_setopt_long(raw, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1 : 0)
            _ = vmm_curl_setopt_long(raw, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2 : 0)
            if let ca = tls.caFile { _ = vmm_curl_setopt_string(raw, CURLOPT_CAINFO, ca) }
        }

        fileprivate func failure(_ code: CURLcode) -> Failure {
            var response = 0
            _ = vmm_curl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &response)
            let detail = String(cString: errorBuffer)
            let text = String(cString: curl_easy_strerror(code))
            return Failure(code: Int32(code.rawValue), message: detail.isEmpty ? text : detail, responseCode: response)
        }

        fileprivate var responseCode: Int {
            var response = 0
            _ = vmm_curl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &response)
            return response
        }
    }

    /// Submits one message: `MAIL FROM`, one `RCPT TO` per recipient, `DATA`. Returns the server's final
    /// response code (250 when accepted).
    static func sendMail(_ request: SMTPRequest, on handle: Handle) -> Result<Int, Failure> {
        handle.reset(url: request.url, tls: request.tls, timeout: request.timeout)
        let h = handle.raw
        _ = vmm_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        let ssl: curl_usessl
        switch request.startTLS {
        case .no: ssl = CURLUSESSL_NONE
        case .yes: ssl = CURLUSESSL_TRY
        case .required: ssl = CURLUSESSL_ALL
        }
        _ = vmm_curl_setopt_long(h, CURLOPT_USE_SSL, Int(ssl.rawValue))
        if let user = request.user { _ = vmm_curl_setopt_string(h, CURLOPT_USERNAME, user) }
        if let password = request.password { _ = vmm_curl_setopt_string(h, CURLOPT_PASSWORD, password) }
        _ = vmm_curl_setopt_string(h, CURLOPT_MAIL_FROM, "<\(request.from)>")
        var recipients: UnsafeMutablePointer<curl_slist>?
        for r in request.recipients { recipients = curl_slist_append(recipients, "<\(r)>") }
        defer { curl_slist_free_all(recipients) }
        _ = vmm_curl_setopt_slist(h, CURLOPT_MAIL_RCPT, recipients)

        let source = UploadSource(request.message)
        let box = Unmanaged.passRetained(source)
        defer { box.release() }
        let read: vmm_curl_io_callback = { buffer, size, count, userdata in
            guard let buffer, let userdata else { return 0 }
            let source = Unmanaged<UploadSource>.fromOpaque(userdata).takeUnretainedValue()
            return source.read(into: buffer, max: size * count)
        }
        _ = vmm_curl_setopt_io_callback(h, CURLOPT_READFUNCTION, read)
        _ = vmm_curl_setopt_pointer(h, CURLOPT_READDATA, box.toOpaque())
        _ = vmm_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
        _ = vmm_curl_setopt_off_t(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.message.count))

        let code = curl_easy_perform(h)
        guard code == CURLE_OK else { return .failure(handle.failure(code)) }
        return .success(handle.responseCode)
    }

    /// POSTs `body`; any HTTP status is a success here (the caller judges it), transport errors are failures.
    static func post(_ request: HTTPRequest, on handle: Handle) -> Result<HTTPResponse, Failure> {
        handle.reset(url: request.url, tls: request.tls, timeout: request.timeout)
        let h = handle.raw
        _ = vmm_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = vmm_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        _ = vmm_curl_setopt_long(h, CURLOPT_POST, 1)
        _ = vmm_curl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
        request.body.withUnsafeBytes { bytes in
            // COPYPOSTFIELDS copies now, so the buffer need not outlive this call.
            _ = vmm_curl_setopt_pointer(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        }
        var headers: UnsafeMutablePointer<curl_slist>?
        // "Expect:" stops libcurl from waiting for "100 Continue" before large bodies.
        for line in request.headers + ["Expect:"] { headers = curl_slist_append(headers, line) }
        defer { curl_slist_free_all(headers) }
        _ = vmm_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headers)

        let sink = DownloadSink(limit: 4096)
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        let write: vmm_curl_io_callback = { buffer, size, count, userdata in
            guard let buffer, let userdata else { return 0 }
            return Unmanaged<DownloadSink>.fromOpaque(userdata).takeUnretainedValue().write(buffer, size * count)
        }
        _ = vmm_curl_setopt_io_callback(h, CURLOPT_WRITEFUNCTION, write)
        _ = vmm_curl_setopt_pointer(h, CURLOPT_WRITEDATA, box.toOpaque())

        let code = curl_easy_perform(h)
        guard code == CURLE_OK else { return .failure(handle.failure(code)) }
        return .success(HTTPResponse(status: handle.responseCode, body: String(decoding: sink.bytes, as: UTF8.self)))
    }

    /// The version libcurl reports, for `vmctl notify test`.
    static var version: String { String(cString: curl_version()) }
}

/// The message libcurl reads while uploading.
private final class UploadSource {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        let n = min(max, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBufferPointer { src in
            UnsafeMutableRawPointer(buffer).copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}

/// Keeps the first `limit` bytes of a response body; the rest is read and dropped.
private final class DownloadSink {
    private(set) var bytes: [UInt8] = []
    private let limit: Int
    init(limit: Int) { self.limit = limit }

    func write(_ buffer: UnsafeMutablePointer<CChar>, _ count: Int) -> Int {
        let keep = min(count, limit - bytes.count)
        if keep > 0 {
            UnsafeRawBufferPointer(start: buffer, count: keep).withMemoryRebound(to: UInt8.self) {
                bytes.append(contentsOf: $0)
            }
        }
        return count
    }
}
