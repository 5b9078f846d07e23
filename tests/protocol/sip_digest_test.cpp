// SIP digest authentication: RFC 2617 §3.5 example, no-qop form, header parsing and refusals.
#include "arc/protocol/sip_digest.hpp"

#include <string>

#include <gtest/gtest.h>

namespace arc::protocol {
namespace {

constexpr const char* rfc2617_header =
    R"(Digest username="Mufasa", realm="testrealm@host.com", )"
    R"(nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, )"
    R"(nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", )"
    R"(opaque="5ccc069c403ebaf9f0171e9517f40e41")";

TEST(sip_digest, rfc2617_example) {
    const auto c = parse_digest_authorization(rfc2617_header);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->username, "Mufasa");
    EXPECT_EQ(c->realm, "testrealm@host.com");
    EXPECT_EQ(c->qop, "auth");
    EXPECT_EQ(c->nc, "00000001");
    EXPECT_EQ(c->opaque, "5ccc069c403ebaf9f0171e9517f40e41");
    const std::string ha1 = digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
    EXPECT_EQ(digest_response(*c, "GET", ha1), "6629fae49393a05397450978507c4ef1");
    EXPECT_TRUE(verify_digest(*c, "GET", ha1));
    EXPECT_FALSE(verify_digest(*c, "GET", digest_ha1("Mufasa", "testrealm@host.com", "wrong")));
    EXPECT_FALSE(verify_digest(*c, "POST", ha1));
}

TEST(sip_digest, without_qop) {
    digest_credentials c;
    c.username = "dev";
    c.realm = "arc";
    c.nonce = "abc";
    c.uri = "sip:arc@127.0.0.1";
    const std::string ha1 = digest_ha1("dev", "arc", "pw");
    // RFC 2069 form: MD5(HA1:nonce:MD5(method:uri)).
    c.response = md5_hex(ha1 + ":abc:" + md5_hex("MESSAGE:sip:arc@127.0.0.1"));
    EXPECT_TRUE(verify_digest(c, "MESSAGE", ha1));
    c.algorithm = "SHA-256";
    EXPECT_FALSE(verify_digest(c, "MESSAGE", ha1));
}

TEST(sip_digest, md5_known_value) { EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e"); }

TEST(sip_digest, refused_headers) {
    EXPECT_FALSE(parse_digest_authorization("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==").has_value());
    EXPECT_FALSE(parse_digest_authorization(R"(Digest username="a, realm="r")").has_value());
    EXPECT_FALSE(parse_digest_authorization(R"(Digest username="a" realm="r")").has_value());
    EXPECT_FALSE(parse_digest_authorization(R"(Digest username="a", realm="r")").has_value());
    EXPECT_FALSE(parse_digest_authorization("Digest " + std::string(5000, 'x')).has_value());
    EXPECT_FALSE(parse_digest_authorization("").has_value());
}

TEST(sip_digest, parse_split_everywhere_never_crashes) {
    const std::string full = rfc2617_header;
    for (std::size_t i = 0; i <= full.size(); ++i) {
        const auto c = parse_digest_authorization(full.substr(0, i));
        if (i == full.size()) {
            EXPECT_TRUE(c.has_value());
        }
    }
}

TEST(sip_digest, www_authenticate_escapes) {
    EXPECT_EQ(build_www_authenticate("arc", "n1"),
              R"(Digest realm="arc", nonce="n1", algorithm=MD5, qop="auth")");
    EXPECT_EQ(build_www_authenticate("a\"b", "n\\", true),
              R"(Digest realm="a\"b", nonce="n\\", algorithm=MD5, qop="auth", stale=true)");
}

}  // namespace
}  // namespace arc::protocol
