// SIP framing for SCAIP: a MESSAGE split at every offset and fed byte by byte, messages back to
// back, compact forms, folding, limits and one test per malformed case; the responses copy
// Via/From/To/Call-ID/CSeq (RFC 3261 §8.2.6) and the 401 challenge verifies with sip_digest.
#include "arc/protocol/sip.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "arc/protocol/error.hpp"
#include "arc/protocol/sip_digest.hpp"

namespace arc::protocol {
namespace {

const std::string body = "<mrq><ref>1242</ref><cid>678</cid><dty>27</dty><stc>16</stc></mrq>";

std::string message_bytes(const std::string& call_id = "a84b4c76e66710") {
    return "MESSAGE sip:arc@192.0.2.9 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
           "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKfirst, SIP/2.0/UDP 10.0.0.2\r\n"
           "Max-Forwards: 70\r\n"
           "From: \"LUC 678\" <sip:678@192.0.2.1>;tag=1928301774\r\n"
           "To: <sip:arc@192.0.2.9>\r\n"
           "Call-ID: " +
           call_id +
           "\r\n"
           "CSeq: 314159 MESSAGE\r\n"
           "Content-Type: application/scaip+xml\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

void expect_message(const sip_message& m, const std::string& call_id = "a84b4c76e66710") {
    EXPECT_TRUE(m.is_request);
    EXPECT_EQ(m.method, "MESSAGE");
    EXPECT_EQ(m.uri, "sip:arc@192.0.2.9");
    EXPECT_EQ(m.header("call-id").value_or(""), call_id);
    EXPECT_EQ(m.header("i").value_or(""), call_id);
    EXPECT_EQ(m.header("CSeq").value_or(""), "314159 MESSAGE");
    EXPECT_EQ(m.header("c").value_or(""), "application/scaip+xml");
    EXPECT_EQ(m.all("v").size(), 3U);
    EXPECT_EQ(m.body, body);
    EXPECT_FALSE(check_sip_request(m).has_value());
}

std::vector<sip_message> drain(sip_stream_parser& p) {
    std::vector<sip_message> out;
    while (true) {
        auto m = p.next();
        if (!m) {
            EXPECT_EQ(m.error().code, make_error_code(error::need_more)) << m.error().detail;
            return out;
        }
        out.push_back(std::move(*m));
    }
}

TEST(sip, stream_whole_message) {
    sip_stream_parser p;
    p.feed(message_bytes());
    const auto got = drain(p);
    ASSERT_EQ(got.size(), 1U);
    expect_message(got[0]);
    EXPECT_EQ(p.buffered(), 0U);
}

TEST(sip, stream_split_at_every_offset) {
    const std::string full = message_bytes();
    for (std::size_t i = 0; i <= full.size(); ++i) {
        sip_stream_parser p;
        p.feed(full.substr(0, i));
        auto first = drain(p);
        p.feed(full.substr(i));
        auto second = drain(p);
        ASSERT_EQ(first.size() + second.size(), 1U) << i;
        expect_message(first.empty() ? second[0] : first[0]);
        EXPECT_EQ(first.size(), i == full.size() ? 1U : 0U) << i;
    }
}

TEST(sip, stream_byte_by_byte_back_to_back_with_keepalives) {
    const std::string full = "\r\n\r\n" + message_bytes("one") + "\r\n\r\n" + message_bytes("two") +
                             message_bytes("three");
    sip_stream_parser p;
    std::vector<sip_message> got;
    for (const char c : full) {
        p.feed(std::string_view(&c, 1));
        for (auto& m : drain(p)) {
            got.push_back(std::move(m));
        }
    }
    ASSERT_EQ(got.size(), 3U);
    expect_message(got[0], "one");
    expect_message(got[1], "two");
    expect_message(got[2], "three");
}

TEST(sip, bare_lf_compact_forms_and_folding) {
    const std::string text =
        "MESSAGE sip:arc@h SIP/2.0\n"
        "v: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKx\n"
        "f: <sip:678@h>;tag=a\n"
        "t: <sip:arc@h>\n"
        "i: cid-1\n"
        "CSEQ: 1\n"
        "  MESSAGE\n"
        "X-Vendor:   spaced   \n"
        "l: 3\n\nabc";
    sip_stream_parser p;
    p.feed(text);
    auto m = p.next();
    ASSERT_TRUE(m.has_value()) << m.error().detail;
    EXPECT_EQ(m->headers[0].name, "Via");
    EXPECT_EQ(m->headers[4].name, "CSeq");
    EXPECT_EQ(m->header("cseq").value_or(""), "1 MESSAGE");
    EXPECT_EQ(m->header("x-vendor").value_or(""), "spaced");
    EXPECT_EQ(m->body, "abc");
    EXPECT_FALSE(check_sip_request(*m).has_value());
}

TEST(sip, response_parsed) {
    const auto m = parse_sip_datagram(
        "SIP/2.0 202 Accepted\r\nVia: SIP/2.0/UDP h\r\nContent-Length: 0\r\n\r\n");
    ASSERT_TRUE(m.has_value()) << m.error().detail;
    EXPECT_FALSE(m->is_request);
    EXPECT_EQ(m->status, 202);
    EXPECT_EQ(m->reason, "Accepted");
}

TEST(sip, datagram_body_is_the_rest_or_content_length) {
    std::string no_length = message_bytes();
    no_length.erase(no_length.find("Content-Length"),
                    no_length.find("\r\n\r\n") + 2 - no_length.find("Content-Length"));
    const auto a = parse_sip_datagram(no_length);
    ASSERT_TRUE(a.has_value()) << a.error().detail;
    EXPECT_EQ(a->body, body);
    const auto b = parse_sip_datagram(message_bytes() + "garbage after");
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->body, body);
}

TEST(sip, datagram_every_truncation_is_an_error_not_a_crash) {
    const std::string full = message_bytes();
    const std::size_t head_end = full.find("\r\n\r\n");
    for (std::size_t i = 0; i < full.size(); ++i) {
        const auto m = parse_sip_datagram(full.substr(0, i));
        // Cut inside the body: Content-Length says more than arrived.
        if (i > head_end + 4) {
            ASSERT_FALSE(m.has_value()) << i;
            EXPECT_EQ(m.error().field, "Content-Length");
        }
    }
}

TEST(sip, datagram_keepalive) {
    EXPECT_EQ(parse_sip_datagram("\r\n\r\n").error().code, make_error_code(error::empty_data));
    EXPECT_EQ(parse_sip_datagram("").error().code, make_error_code(error::empty_data));
}

TEST(sip, refused_stream_without_content_length) {
    sip_stream_parser p;
    p.feed("MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n");
    const auto m = p.next();
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code, make_error_code(error::missing_field));
    EXPECT_EQ(m.error().field, "Content-Length");
    EXPECT_EQ(m.error().status, 400);
    // The stream is out of step: the error sticks and new bytes are not parsed.
    p.feed(message_bytes());
    EXPECT_EQ(p.next().error().field, "Content-Length");
    EXPECT_EQ(p.buffered(), 0U);
}

TEST(sip, refused_body_too_large_413) {
    sip_limits limits;
    limits.max_body = 16;
    sip_stream_parser p(limits);
    const std::string full = message_bytes();
    p.feed(full.substr(0, full.find("\r\n\r\n") + 4));  // the head is enough to know
    const auto m = p.next();
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code, make_error_code(error::frame_too_large));
    EXPECT_EQ(m.error().status, 413);
    EXPECT_EQ(m.error().field, "body");
    EXPECT_EQ(parse_sip_datagram(message_bytes(), limits).error().status, 413);
}

TEST(sip, refused_headers_too_large) {
    sip_limits limits;
    limits.max_header_bytes = 100;
    sip_stream_parser p(limits);
    p.feed("MESSAGE sip:a@b SIP/2.0\r\nX: " + std::string(200, 'x'));  // no end in sight
    const auto m = p.next();
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().field, "headers");
    EXPECT_EQ(m.error().status, 513);
    EXPECT_EQ(parse_sip_datagram(message_bytes(), limits).error().field, "headers");
}

TEST(sip, refused_too_many_headers) {
    std::string text = "MESSAGE sip:a@b SIP/2.0\r\n";
    for (int i = 0; i < 65; ++i) {
        text += "X: 1\r\n";
    }
    text += "Content-Length: 0\r\n\r\n";
    sip_stream_parser p;
    p.feed(text);
    const auto m = p.next();
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().detail, "headers: more than 64");
}

TEST(sip, refused_bad_start_lines) {
    EXPECT_EQ(parse_sip_datagram("MESSAGE sip:a@b SIP/3.0\r\n\r\n").error().status, 505);
    EXPECT_EQ(parse_sip_datagram("MESSAGE sip:a@b\r\n\r\n").error().field, "start line");
    EXPECT_EQ(parse_sip_datagram("MESS AGE sip:a@b SIP/2.0\r\n\r\n").error().field, "start line");
    EXPECT_EQ(parse_sip_datagram("M(x) sip:a@b SIP/2.0\r\n\r\n").error().field, "start line");
    EXPECT_EQ(parse_sip_datagram("SIP/2.0 2x0 OK\r\n\r\n").error().field, "start line");
    EXPECT_EQ(parse_sip_datagram("SIP/2.0 099 Low\r\n\r\n").error().field, "start line");
    EXPECT_EQ(parse_sip_datagram("SIP/2.0 2000 OK\r\n\r\n").error().field, "start line");
    EXPECT_EQ(parse_sip_datagram("SIP/1.0 200 OK\r\n\r\n").error().status, 505);
}

TEST(sip, refused_bad_headers) {
    const auto no_colon = parse_sip_datagram("MESSAGE sip:a@b SIP/2.0\r\nVia SIP\r\n\r\n");
    EXPECT_EQ(no_colon.error().detail, "header: 'Via SIP' has no ':'");
    EXPECT_EQ(parse_sip_datagram("MESSAGE sip:a@b SIP/2.0\r\nV(a): 1\r\n\r\n").error().field,
              "header");
    EXPECT_EQ(parse_sip_datagram("MESSAGE sip:a@b SIP/2.0\r\n folded\r\n\r\n").error().field,
              "header");
    EXPECT_EQ(parse_sip_datagram(std::string("MESSAGE sip:a@b SIP/2.0\r\nX: a\0b\r\n\r\n", 35))
                  .error()
                  .field,
              "header");
    EXPECT_EQ(parse_sip_datagram("MESSAGE sip:a@b SIP/2.0\r\nX: a\rb\r\n\r\n").error().field,
              "header");
}

TEST(sip, refused_bad_content_length) {
    for (const char* value : {"x", "-1", "1 2", "", "99999999999"}) {
        const auto m =
            parse_sip_datagram(std::string("MESSAGE sip:a@b SIP/2.0\r\nl: ") + value + "\r\n\r\n");
        ASSERT_FALSE(m.has_value()) << value;
        EXPECT_EQ(m.error().field, "Content-Length") << value;
        EXPECT_EQ(m.error().code, make_error_code(error::bad_length)) << value;
    }
    const auto twice =
        parse_sip_datagram("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab");
    EXPECT_EQ(twice.error().detail, "Content-Length: repeated with another value");
}

TEST(sip, check_request_names_the_missing_header) {
    for (const char* name : {"Via", "From", "To", "Call-ID", "CSeq"}) {
        auto m = parse_sip_datagram(message_bytes()).value();
        std::erase_if(m.headers, [name](const sip_header& h) { return h.name == name; });
        const auto e = check_sip_request(m);
        ASSERT_TRUE(e.has_value()) << name;
        EXPECT_EQ(e->field, name);
        EXPECT_EQ(e->code, make_error_code(error::missing_field));
        EXPECT_EQ(e->status, 400);
    }
    auto m = parse_sip_datagram(message_bytes()).value();
    for (auto& h : m.headers) {
        if (h.name == "CSeq") {
            h.value = "1 INVITE";
        }
    }
    EXPECT_EQ(check_sip_request(m)->field, "CSeq");
}

TEST(sip, response_copies_rfc3261_headers) {
    const auto request = parse_sip_datagram(message_bytes()).value();
    const std::string bytes = serialize_sip(make_sip_response(request, 200, "OK", "arc77"));
    EXPECT_EQ(bytes,
              "SIP/2.0 200 OK\r\n"
              "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
              "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKfirst, SIP/2.0/UDP 10.0.0.2\r\n"
              "From: \"LUC 678\" <sip:678@192.0.2.1>;tag=1928301774\r\n"
              "To: <sip:arc@192.0.2.9>;tag=arc77\r\n"
              "Call-ID: a84b4c76e66710\r\n"
              "CSeq: 314159 MESSAGE\r\n"
              "Content-Length: 0\r\n\r\n");
    // A To that already has a tag keeps it; 100 Trying gets none.
    auto tagged = request;
    for (auto& h : tagged.headers) {
        if (h.name == "To") {
            h.value += ";tag=old";
        }
    }
    EXPECT_EQ(make_sip_response(tagged, 400, "Bad Request", "new").header("To").value_or(""),
              "<sip:arc@192.0.2.9>;tag=old");
    EXPECT_EQ(make_sip_response(request, 100, "Trying", "new").header("To").value_or(""),
              "<sip:arc@192.0.2.9>");
    const auto r413 = make_sip_response(request, 413, "Request Entity Too Large", "t");
    EXPECT_EQ(parse_sip_datagram(serialize_sip(r413)).value().status, 413);
}

TEST(sip, challenge_then_authorized_request_verifies) {
    const auto request = parse_sip_datagram(message_bytes()).value();
    const auto challenge = make_sip_challenge(request, "arc", "n0nce", "t1");
    const auto parsed = parse_sip_datagram(serialize_sip(challenge)).value();
    EXPECT_EQ(parsed.status, 401);
    EXPECT_EQ(parsed.header("WWW-Authenticate").value_or(""),
              R"(Digest realm="arc", nonce="n0nce", algorithm=MD5, qop="auth")");
    EXPECT_EQ(sip_header_param(*parsed.header("To"), "tag"), "t1");

    // The device answers with Authorization computed from the challenge.
    digest_credentials c;
    c.username = "678";
    c.realm = "arc";
    c.nonce = "n0nce";
    c.uri = request.uri;
    c.qop = "auth";
    c.nc = "00000001";
    c.cnonce = "abc";
    const std::string ha1 = digest_ha1("678", "arc", "secret");
    c.response = digest_response(c, "MESSAGE", ha1);
    sip_message_request mr;
    mr.request_uri = request.uri;
    mr.from_uri = "sip:678@192.0.2.1";
    mr.from_tag = "x";
    mr.to_uri = request.uri;
    mr.call_id = "c2";
    mr.cseq = 2;
    mr.via_sent_by = "192.0.2.1:5060";
    mr.via_branch = "b2";
    mr.extra.push_back(
        {"Authorization", R"(Digest username="678", realm="arc", nonce="n0nce", uri=")" + c.uri +
                              R"(", qop=auth, nc=00000001, cnonce="abc", response=")" + c.response +
                              "\""});
    mr.body = body;
    const auto again = parse_sip_datagram(serialize_sip(make_sip_message_request(mr))).value();
    const auto creds = parse_digest_authorization(again.header("Authorization").value_or(""));
    ASSERT_TRUE(creds.has_value());
    EXPECT_TRUE(verify_digest(*creds, again.method, ha1));
    EXPECT_FALSE(verify_digest(*creds, again.method, digest_ha1("678", "arc", "wrong")));
}

TEST(sip, message_request_built_and_reparsed) {
    sip_message_request r;
    r.request_uri = "sip:678@192.0.2.1:5060";
    r.from_uri = "sip:arc@192.0.2.9";
    r.from_tag = "f1";
    r.to_uri = "sip:678@192.0.2.1";
    r.call_id = "mrs-1242";
    r.cseq = 7;
    r.via_sent_by = "192.0.2.9:5060";
    r.via_branch = "abc";
    r.body = "<mrs><ref>1242</ref><snu>0</snu></mrs>";
    const std::string bytes = serialize_sip(make_sip_message_request(r));
    EXPECT_EQ(bytes,
              "MESSAGE sip:678@192.0.2.1:5060 SIP/2.0\r\n"
              "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKabc\r\n"
              "Max-Forwards: 70\r\n"
              "From: <sip:arc@192.0.2.9>;tag=f1\r\n"
              "To: <sip:678@192.0.2.1>\r\n"
              "Call-ID: mrs-1242\r\n"
              "CSeq: 7 MESSAGE\r\n"
              "Content-Type: application/scaip+xml\r\n"
              "Content-Length: 38\r\n\r\n"
              "<mrs><ref>1242</ref><snu>0</snu></mrs>");
    sip_stream_parser p;
    p.feed(bytes);
    const auto m = p.next();
    ASSERT_TRUE(m.has_value());
    EXPECT_FALSE(check_sip_request(*m).has_value());
    EXPECT_EQ(m->body, r.body);
}

TEST(sip, serialize_drops_cr_lf_in_values) {
    sip_message m;
    m.is_request = false;
    m.status = 400;
    m.reason = "Bad\r\nX: injected";
    m.add("Warning", "a\r\nb");
    const std::string bytes = serialize_sip(m);
    EXPECT_EQ(bytes, "SIP/2.0 400 BadX: injected\r\nWarning: ab\r\nContent-Length: 0\r\n\r\n");
}

TEST(sip, header_params_and_uri) {
    EXPECT_EQ(sip_header_param(R"("a;tag=no" <sip:x@y;tag=no>;TAG=yes)", "tag"), "yes");
    EXPECT_EQ(sip_header_param("SIP/2.0/UDP h;branch=z9hG4bK1;rport", "branch"), "z9hG4bK1");
    EXPECT_EQ(sip_header_param("<sip:x@y>", "tag"), "");
    EXPECT_EQ(sip_header_uri(R"("LUC" <sip:678@h:5060;transport=udp>;tag=1)"),
              "sip:678@h:5060;transport=udp");
    EXPECT_EQ(sip_header_uri("sip:678@h;tag=1"), "sip:678@h");
    EXPECT_EQ(sip_canonical_name("i"), "Call-ID");
    EXPECT_EQ(sip_canonical_name("CONTENT-length"), "Content-Length");
    EXPECT_EQ(sip_canonical_name("X-Foo"), "X-Foo");
}

}  // namespace
}  // namespace arc::protocol
