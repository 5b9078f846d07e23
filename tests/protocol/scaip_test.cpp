// SCAIP <mrq>/<mrs>: the TR 91102 examples (PROTOCOLS.md §4.7), leniency (§4.3/§4.6), one test
// per refusal with the snu and the field it names, build -> parse round trips.
#include "arc/protocol/scaip.hpp"

#include <string>

#include <gtest/gtest.h>

#include "arc/protocol/error.hpp"

namespace arc::protocol {
namespace {

scaip_request parse_ok(const std::string& body) {
    auto r = parse_scaip_request(body);
    EXPECT_TRUE(r.has_value()) << body << " -> " << (r ? "" : r.error().detail);
    return r.value_or(scaip_request{});
}

scaip_response mrs(const char* ref, scaip_status snu) {
    scaip_response r;
    r.ref = ref;
    r.snu = snu;
    return r;
}

scaip_error parse_bad(const std::string& body) {
    auto r = parse_scaip_request(body);
    EXPECT_FALSE(r.has_value()) << body;
    return r ? scaip_error{} : r.error();
}

TEST(scaip, tr_example_battery_low) {
    const auto r = parse_ok("<mrq><ref>1242</ref><cid>678</cid><dty>27</dty><stc>16</stc></mrq>");
    EXPECT_EQ(r.ref, "1242");
    EXPECT_EQ(r.cid, "678");
    EXPECT_EQ(r.dty, 27);
    EXPECT_EQ(r.stc, 16);
    EXPECT_EQ(r.mty, scaip_message_type::message);
    EXPECT_EQ(r.ver, "01.00");
    EXPECT_EQ(r.pri, 0);
    EXPECT_TRUE(r.crd.empty());
    EXPECT_FALSE(r.lge.has_value());
    EXPECT_FALSE(r.compat_root);
}

TEST(scaip, tr_example_voice_alarm_has_no_status_code) {
    const auto r = parse_ok("<mrq><ref>1243</ref><cid>678</cid><dty>2</dty></mrq>");
    EXPECT_EQ(r.ref, "1243");
    EXPECT_EQ(r.dty, 2);
    EXPECT_FALSE(r.stc.has_value());  // omitted = alarm state
}

TEST(scaip, tr_example_heartbeat) {
    const auto r = parse_ok("<mrq><ref>1244</ref><mty>PI</mty><cid>678</cid><dty>2</dty></mrq>");
    EXPECT_EQ(r.ref, "1244");
    EXPECT_EQ(r.mty, scaip_message_type::heartbeat);
}

TEST(scaip, tr_example_responses_built_exactly) {
    EXPECT_EQ(build_scaip_response(mrs("1242", scaip_status::ok)),
              "<mrs><ref>1242</ref><snu>0</snu></mrs>");
    EXPECT_EQ(build_scaip_response(mrs("1243", scaip_status::hold)),
              "<mrs><ref>1243</ref><snu>4</snu></mrs>");
    scaip_response later = mrs("1243", scaip_status::ok);
    later.mre = 1;
    EXPECT_EQ(build_scaip_response(later), "<mrs><ref>1243</ref><snu>0</snu><mre>1</mre></mrs>");
}

TEST(scaip, codes_compare_numerically) {
    const auto a = parse_ok("<mrq><ref>1</ref><cid>678</cid><dty>0027</dty><stc>0016</stc></mrq>");
    EXPECT_EQ(a.dty, 27);
    EXPECT_EQ(a.stc, 16);
}

TEST(scaip, every_field) {
    const auto r = parse_ok(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<mrq>\n"
        "  <ref>Ab12</ref><ver>01.10</ver><sco>2</sco><cha>1</cha><mty>IN</mty><hbo>001</hbo>\n"
        "  <cid>12345678901234567890</cid><dty>0005</dty><did>P-1 x</did><dco>002</dco>\n"
        "  <dte>Pendente caduta</dte><crd>gsm:+393331234567</crd><crd>sip:luc@10.0.0.2</crd>\n"
        "  <crd>no-voice:</crd><crd>sip-pp:x@y</crd><stc>0010</stc><stt>Allarme</stt>\n"
        "  <pri>9</pri><lco>034</lco><lva>2A</lva>\n"
        "  <lge><geo>45.4642,9.1900</geo><tim>2025-03-14T10:15:30+01</tim>"
        "<gga>$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47</gga></lge>\n"
        "  <lte>Cucina</lte><ico>1</ico><ite>info</ite><ame>0</ame>\n"
        "</mrq>\n");
    EXPECT_EQ(r.ref, "Ab12");
    EXPECT_EQ(r.ver, "01.10");
    EXPECT_EQ(r.sco, 2);
    EXPECT_EQ(r.cha, 1);
    EXPECT_EQ(r.mty, scaip_message_type::information);
    EXPECT_TRUE(r.hbo);
    EXPECT_EQ(r.cid, "12345678901234567890");
    EXPECT_EQ(r.dty, 5);
    EXPECT_EQ(r.did, "P-1 x");
    EXPECT_EQ(r.dco, 2);
    EXPECT_EQ(r.dte, "Pendente caduta");
    ASSERT_EQ(r.crd.size(), 4U);
    EXPECT_EQ(r.crd[0].medium, scaip_medium::gsm);
    EXPECT_EQ(r.crd[0].value, "gsm:+393331234567");
    EXPECT_EQ(r.crd[1].medium, scaip_medium::sip);
    EXPECT_EQ(r.crd[2].medium, scaip_medium::no_voice);
    EXPECT_EQ(r.crd[3].medium, scaip_medium::sip);  // sip-pp: is deprecated, treated as sip
    EXPECT_EQ(r.stc, 10);
    EXPECT_EQ(r.stt, "Allarme");
    EXPECT_EQ(r.pri, 9);
    EXPECT_EQ(r.lco, 34);
    EXPECT_EQ(r.lva, "2A");
    ASSERT_TRUE(r.lge.has_value());
    EXPECT_EQ(r.lge->geo, "45.4642,9.1900");
    EXPECT_DOUBLE_EQ(r.lge->latitude.value_or(0), 45.4642);
    EXPECT_DOUBLE_EQ(r.lge->longitude.value_or(0), 9.19);
    EXPECT_EQ(r.lge->tim, "2025-03-14T10:15:30+01");
    EXPECT_EQ(r.lge->gga.substr(0, 6), "$GPGGA");
    EXPECT_EQ(r.lte, "Cucina");
    EXPECT_EQ(r.ico, 1);
    EXPECT_EQ(r.ite, "info");
    EXPECT_EQ(r.ame, 0);
}

TEST(scaip, lenient_order_whitespace_unknown_namespace_case) {
    const auto r = parse_ok(
        "<x:mrq xmlns:x=\"http://www.hi.se/2012/XScaipXML\">"
        "<x:DTY> 27 </x:DTY><vendor><ref>999</ref><deep><deeper/></deep></vendor>"
        "<!-- comment --><x:stc><![CDATA[16]]></x:stc><mty>pi</mty>"
        "<cid>\n678\n</cid><Ref>1242</Ref></x:mrq>");
    EXPECT_EQ(r.ref, "1242");  // the ref inside the unknown <vendor> is not the request's
    EXPECT_EQ(r.cid, "678");
    EXPECT_EQ(r.dty, 27);
    EXPECT_EQ(r.stc, 16);
    EXPECT_EQ(r.mty, scaip_message_type::heartbeat);
}

TEST(scaip, character_references_and_utf8_lengths) {
    // 32 characters of which several are two bytes: within the limit of 32 characters.
    const std::string dte = "àèìòù àèìòù àèìòù àèìòù àèìòù x";
    const auto r = parse_ok("<mrq><ref>1</ref><cid>1</cid><dty>3</dty><dte>" + dte +
                            "</dte>"
                            "<stt>a&amp;b &#x3C;c&#62;</stt></mrq>");
    EXPECT_EQ(r.dte, dte);
    EXPECT_EQ(r.stt, "a&b <c>");
}

TEST(scaip, other_encoding_declared) {
    const std::string latin1 = std::string("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>") +
                               "<mrq><ref>1</ref><cid>1</cid><dty>3</dty><dte>caf\xE9</dte></mrq>";
    EXPECT_EQ(parse_ok(latin1).dte, "caf\xC3\xA9");
}

TEST(scaip, compat_root_only_when_asked) {
    const std::string body = "<scaip><ref>7</ref><cid>1</cid><dty>3</dty></scaip>";
    const auto e = parse_bad(body);
    EXPECT_EQ(e.snu, scaip_status::invalid_format);
    EXPECT_NE(e.detail.find("'scaip' is not mrq"), std::string::npos) << e.detail;
    scaip_parse_options options;
    options.allow_scaip_root = true;
    const auto r = parse_scaip_request(body, options);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->compat_root);
    EXPECT_EQ(r->ref, "7");
}

TEST(scaip, refused_not_xml) {
    const auto e = parse_bad("<mrq><ref>1</ref><cid>1</cid><dty>3</dty>");
    EXPECT_EQ(e.snu, scaip_status::invalid_format);
    EXPECT_EQ(e.code, make_error_code(error::bad_format));
    EXPECT_NE(e.detail.find("not well-formed XML"), std::string::npos) << e.detail;
    EXPECT_NE(e.detail.find("line 1"), std::string::npos) << e.detail;
}

TEST(scaip, refused_empty_body) { EXPECT_EQ(parse_bad("").snu, scaip_status::invalid_format); }

TEST(scaip, refused_bad_utf8) {
    EXPECT_EQ(parse_bad("<mrq><ref>1</ref><cid>1</cid><dty>3</dty><dte>\xFF</dte></mrq>").snu,
              scaip_status::invalid_format);
}

TEST(scaip, refused_doctype_and_entities) {
    const auto e = parse_bad(
        "<!DOCTYPE mrq [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
        "<mrq><ref>1</ref><cid>1</cid><dty>3</dty><dte>&b;</dte></mrq>");
    EXPECT_EQ(e.snu, scaip_status::invalid_format);
    EXPECT_NE(e.detail.find("DOCTYPE"), std::string::npos) << e.detail;
}

TEST(scaip, refused_oversize) {
    std::string body =
        "<mrq><ref>1</ref><cid>1</cid><dty>3</dty><x>" + std::string(5000, 'a') + "</x></mrq>";
    const auto e = parse_bad(body);
    EXPECT_EQ(e.snu, scaip_status::too_long);
    EXPECT_EQ(e.code, make_error_code(error::frame_too_large));
    EXPECT_NE(e.detail.find("limit 4096"), std::string::npos) << e.detail;
    scaip_parse_options big;
    big.max_size = 8192;
    EXPECT_TRUE(parse_scaip_request(body, big).has_value());
}

TEST(scaip, refused_too_deep) {
    std::string body = "<mrq><ref>1</ref><cid>1</cid><dty>3</dty>";
    for (int i = 0; i < 20; ++i) {
        body += "<a>";
    }
    for (int i = 0; i < 20; ++i) {
        body += "</a>";
    }
    body += "</mrq>";
    EXPECT_NE(parse_bad(body).detail.find("nesting deeper than 16"), std::string::npos);
}

TEST(scaip, refused_too_many_elements) {
    std::string body = "<mrq><ref>1</ref><cid>1</cid><dty>3</dty>";
    for (int i = 0; i < 300; ++i) {
        body += "<a/>";
    }
    body += "</mrq>";
    EXPECT_NE(parse_bad(body).detail.find("more than 256 elements"), std::string::npos);
}

TEST(scaip, refused_wrong_root) {
    const auto e = parse_bad("<mrs><ref>1</ref><snu>0</snu></mrs>");
    EXPECT_EQ(e.snu, scaip_status::invalid_format);
    EXPECT_NE(e.detail.find("'mrs' is not mrq"), std::string::npos);
}

TEST(scaip, refused_ref_missing) {
    const auto e = parse_bad("<mrq><cid>678</cid><dty>2</dty></mrq>");
    EXPECT_EQ(e.snu, scaip_status::reference_missing);
    EXPECT_EQ(e.field, "ref");
    EXPECT_EQ(e.code, make_error_code(error::missing_field));
    EXPECT_EQ(e.detail, "ref: mandatory element missing");
    EXPECT_EQ(parse_bad("<mrq><ref> </ref><cid>678</cid><dty>2</dty></mrq>").snu,
              scaip_status::reference_missing);
}

TEST(scaip, refused_bad_ref) {
    const auto e = parse_bad("<mrq><ref>12-4</ref><cid>678</cid><dty>2</dty></mrq>");
    EXPECT_EQ(e.snu, scaip_status::wrong_data);
    EXPECT_EQ(e.field, "ref");
    EXPECT_EQ(e.detail, "ref: '12-4' is not 1-16 of [0-9a-zA-Z]");
    EXPECT_EQ(parse_bad("<mrq><ref>12345678901234567</ref><cid>6</cid><dty>2</dty></mrq>").field,
              "ref");
}

TEST(scaip, refused_cid_missing_echoes_ref) {
    const auto e = parse_bad("<mrq><ref>1242</ref><dty>2</dty></mrq>");
    EXPECT_EQ(e.snu, scaip_status::mandatory_missing);
    EXPECT_EQ(e.field, "cid");
    EXPECT_EQ(e.ref, "1242");
    const auto mrs = scaip_refusal(e);
    EXPECT_EQ(build_scaip_response(mrs),
              "<mrs><ref>1242</ref><snu>7</snu><ste>cid: mandatory element missing</ste></mrs>");
}

TEST(scaip, refused_dty_missing) {
    const auto e = parse_bad("<mrq><ref>1242</ref><cid>678</cid></mrq>");
    EXPECT_EQ(e.snu, scaip_status::mandatory_missing);
    EXPECT_EQ(e.field, "dty");
    EXPECT_EQ(e.ref, "1242");
}

TEST(scaip, refused_bad_codes_name_the_field) {
    struct bad_case {
        const char* xml;
        const char* field;
    };
    const bad_case cases[] = {
        {"<cid>67a</cid><dty>2</dty>", "cid"},
        {"<cid>123456789012345678901234567890123</cid><dty>2</dty>", "cid"},
        {"<cid>6</cid><dty>12345</dty>", "dty"},
        {"<cid>6</cid><dty>-1</dty>", "dty"},
        {"<cid>6</cid><dty>2</dty><stc>x</stc>", "stc"},
        {"<cid>6</cid><dty>2</dty><mty>XX</mty>", "mty"},
        {"<cid>6</cid><dty>2</dty><ver>1.0</ver>", "ver"},
        {"<cid>6</cid><dty>2</dty><sco>4</sco>", "sco"},
        {"<cid>6</cid><dty>2</dty><cha>2</cha>", "cha"},
        {"<cid>6</cid><dty>2</dty><hbo>2</hbo>", "hbo"},
        {"<cid>6</cid><dty>2</dty><pri>10</pri>", "pri"},
        {"<cid>6</cid><dty>2</dty><dco>1234</dco>", "dco"},
        {"<cid>6</cid><dty>2</dty><did>12345678901234567</did>", "did"},
        {"<cid>6</cid><dty>2</dty><did>a&#x9;b</did>", "did"},
        {"<cid>6</cid><dty>2</dty><dte>123456789012345678901234567890123</dte>", "dte"},
        {"<cid>6</cid><dty>2</dty><stt></stt>", "stt"},
        {"<cid>6</cid><dty>2</dty><lva>abc</lva>", "lva"},
        {"<cid>6</cid><dty>2</dty><lge><geo>91,0</geo></lge>", "lge/geo"},
        {"<cid>6</cid><dty>2</dty><lge><geo>45.1</geo></lge>", "lge/geo"},
        {"<cid>6</cid><dty>2</dty><lge><tim>2025-03-14 10:15</tim></lge>", "lge/tim"},
        {"<cid>6</cid><dty>2</dty><ame>x</ame>", "ame"},
        {"<cid>6</cid><dty>2</dty><ico>12345</ico>", "ico"},
    };
    for (const auto& c : cases) {
        const auto e = parse_bad(std::string("<mrq><ref>9</ref>") + c.xml + "</mrq>");
        EXPECT_EQ(e.snu, scaip_status::wrong_data) << c.xml;
        EXPECT_EQ(e.field, c.field) << c.xml;
        EXPECT_EQ(e.code, make_error_code(error::bad_data)) << c.xml;
        EXPECT_EQ(e.detail.rfind(std::string(c.field) + ": '", 0), 0U) << e.detail;
        EXPECT_EQ(e.ref, "9") << c.xml;
    }
}

TEST(scaip, refused_repeated_element) {
    const auto e = parse_bad("<mrq><ref>1</ref><cid>6</cid><dty>2</dty><dty>3</dty></mrq>");
    EXPECT_EQ(e.snu, scaip_status::invalid_format);
    EXPECT_EQ(e.detail, "dty: repeated");
    EXPECT_EQ(e.ref, "1");
}

TEST(scaip, refused_element_inside_a_value) {
    const auto e = parse_bad("<mrq><ref>1</ref><cid>6<b/>7</cid><dty>2</dty></mrq>");
    EXPECT_EQ(e.field, "cid");
    EXPECT_EQ(e.snu, scaip_status::invalid_format);
    EXPECT_EQ(parse_bad("<mrq><ref>1</ref><cid>6</cid><dty>2</dty><lge>45,9</lge></mrq>").field,
              "lge");
}

TEST(scaip, error_detail_quotes_safely) {
    const auto e = parse_bad("<mrq><ref>1</ref><cid>6</cid><dty>" + std::string(50, '9') +
                             "\n\x01</dty></mrq>");
    // A control character makes the XML ill-formed, so try a long printable value instead.
    const auto f =
        parse_bad("<mrq><ref>1</ref><cid>6</cid><dty>" + std::string(50, 'x') + "</dty></mrq>");
    EXPECT_EQ(e.snu, scaip_status::invalid_format);
    EXPECT_EQ(f.detail, "dty: '" + std::string(40, 'x') + "...' is not 1-4 digits");
}

TEST(scaip, request_round_trip) {
    scaip_request r;
    r.ref = "Zz9";
    r.ver = "01.10";
    r.sco = 3;
    r.cha = 1;
    r.mty = scaip_message_type::reset;
    r.hbo = true;
    r.cid = "678";
    r.dty = 5;
    r.did = "<&>\"'";
    r.dco = 7;
    r.dte = "Bagno & doccia";
    r.crd = {{scaip_medium::gsm, "gsm:+39333"}, {scaip_medium::no_voice, "no-voice:"}};
    r.stc = 110;
    r.stt = "x";
    r.pri = 4;
    r.lco = 11;
    r.lva = "1";
    r.lge = scaip_geo{"-33.5,-70.25", -33.5, -70.25, "2025-01-02T03:04:05Z", ""};
    r.lte = "WC";
    r.ico = 3;
    r.ite = std::string(128, 'i');
    r.ame = 1;
    const std::string xml = build_scaip_request(r);
    EXPECT_NE(xml.find("<dty>0005</dty>"), std::string::npos) << xml;
    const auto back = parse_scaip_request(xml);
    ASSERT_TRUE(back.has_value()) << back.error().detail;
    EXPECT_EQ(*back, r);

    scaip_request minimal;
    minimal.ref = "1";
    minimal.cid = "2";
    minimal.dty = 3;
    EXPECT_EQ(build_scaip_request(minimal), "<mrq><ref>1</ref><cid>2</cid><dty>0003</dty></mrq>");
    EXPECT_EQ(parse_scaip_request(build_scaip_request(minimal)).value(), minimal);
}

TEST(scaip, response_round_trip) {
    scaip_response r = mrs("1243", scaip_status::ok);
    r.ste = "ok <&>";
    r.cve = "01.00";
    r.mre = 1;
    r.cre = "05";
    r.tnu = {"gsm:+39333", "sip:op@arc"};
    r.hbi = 1440;
    const auto back = parse_scaip_response(build_scaip_response(r));
    ASSERT_TRUE(back.has_value()) << back.error().detail;
    EXPECT_EQ(*back, r);
}

TEST(scaip, response_ste_is_ascii_and_cut) {
    scaip_response r = mrs("1", scaip_status::wrong_data);
    r.ste = "caf\xC3\xA9 " + std::string(200, 'e');
    const std::string xml = build_scaip_response(r);
    const auto back = parse_scaip_response(xml);
    ASSERT_TRUE(back.has_value()) << back.error().detail;
    EXPECT_EQ(back->ste.size(), 128U);
    EXPECT_EQ(back->ste.substr(0, 4), "caf ");
}

TEST(scaip, response_refusals) {
    EXPECT_EQ(parse_scaip_response("<mrs><snu>0</snu></mrs>").error().snu,
              scaip_status::reference_missing);
    EXPECT_EQ(parse_scaip_response("<mrs><ref>1</ref></mrs>").error().field, "snu");
    EXPECT_EQ(parse_scaip_response("<mrs><ref>1</ref><snu>0</snu><hbi>0</hbi></mrs>").error().field,
              "hbi");
    EXPECT_EQ(parse_scaip_response("<mrq><ref>1</ref></mrq>").error().snu,
              scaip_status::invalid_format);
}

TEST(scaip, every_prefix_is_refused_without_crashing) {
    const std::string full =
        "<mrq><ref>1242</ref><cid>678</cid><dty>27</dty><stc>16</stc>"
        "<lge><geo>45.1,9.2</geo></lge></mrq>";
    for (std::size_t i = 0; i < full.size(); ++i) {
        EXPECT_FALSE(parse_scaip_request(full.substr(0, i)).has_value()) << i;
    }
    EXPECT_TRUE(parse_scaip_request(full).has_value());
}

}  // namespace
}  // namespace arc::protocol
