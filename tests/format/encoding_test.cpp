// The textual encodings: escaping, base64, and the one spelling of each value.
#include "format/encoding.h"

#include <climits>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "core/path.h"

namespace tb {
namespace {

std::string xml_escaped(std::string_view s) {
  std::string out = "prefix:";  // appends, never overwrites
  append_xml_escaped(out, s);
  return out.substr(7);
}

std::string json_escaped(std::string_view s) {
  std::string out;
  append_json_escaped(out, s);
  return out;
}

std::string mtime(std::int64_t ns) {
  std::string out;
  append_mtime(out, ns);
  return out;
}

std::string mode(std::uint32_t m) {
  std::string out;
  append_mode(out, m);
  return out;
}

TEST(XmlEscape, EscapesExactlyTheFourMarkupCharacters) {
  EXPECT_EQ(xml_escaped(""), "");
  EXPECT_EQ(xml_escaped("plain /usr/bin/ls"), "plain /usr/bin/ls");
  EXPECT_EQ(xml_escaped("&"), "&amp;");
  EXPECT_EQ(xml_escaped("<"), "&lt;");
  EXPECT_EQ(xml_escaped(">"), "&gt;");
  EXPECT_EQ(xml_escaped("\""), "&quot;");
  EXPECT_EQ(xml_escaped("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e'f");
  EXPECT_EQ(xml_escaped("&&"), "&amp;&amp;");
  EXPECT_EQ(xml_escaped("]]>"), "]]&gt;");
  EXPECT_EQ(xml_escaped("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");  // UTF-8 untouched
  EXPECT_EQ(xml_escaped("&amp;"), "&amp;amp;");  // no double-unescaping tricks
}

TEST(JsonEscape, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_escaped("plain"), "plain");
  EXPECT_EQ(json_escaped("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(json_escaped("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
  EXPECT_EQ(json_escaped(std::string("\x01\x1f", 2)), "\\u0001\\u001f");
  EXPECT_EQ(json_escaped(std::string(1, '\0')), "\\u0000");
  EXPECT_EQ(json_escaped("/<>&'"), "/<>&'");
  EXPECT_EQ(json_escaped("\xe2\x82\xac"), "\xe2\x82\xac");
}

TEST(SanitizeText, ReplacesWhatIsNotPlainText) {
  EXPECT_EQ(sanitize_text("web01"), "web01");
  EXPECT_EQ(sanitize_text("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(sanitize_text("a\xff" "b"), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(sanitize_text("\xe9t\xe9"), "\xef\xbf\xbdt\xef\xbf\xbd");
  EXPECT_EQ(sanitize_text("line\nbreak"), "line\xef\xbf\xbd" "break");
  EXPECT_EQ(sanitize_text(std::string("nul\0x", 5)), "nul\xef\xbf\xbdx");
  EXPECT_EQ(sanitize_text("\xc2\x85"), "\xef\xbf\xbd");        // C1 control: one replacement
  EXPECT_EQ(sanitize_text("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");  // overlong '/': two bad bytes
  EXPECT_EQ(sanitize_text("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  EXPECT_EQ(sanitize_text("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");  // truncated sequence
}

TEST(SanitizeText, OutputIsAlwaysPlainText) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 16, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string clean = sanitize_text(bytes);
    EXPECT_TRUE(is_plain_text(clean));
    if (is_plain_text(bytes)) {
      EXPECT_EQ(clean, bytes);
    }
  }
}

TEST(Excerpt, QuotesTruncatesAndSanitizes) {
  EXPECT_EQ(excerpt("abc"), "'abc'");
  EXPECT_EQ(excerpt(std::string(100, 'a'), 4), "'aaaa'...");
  EXPECT_EQ(excerpt("\xff"), "'\xef\xbf\xbd'");
}

TEST(Base64, KnownAnswersFromRfc4648) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("\xff\xfe\xfd"), "//79");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("AA=="), std::string(1, '\0'));
}

TEST(Base64, RejectsAnythingButStrictPaddedBase64) {
  for (std::string_view bad : {"Zg", "Zg=", "Zm9", "Z===", "=Zg=", "Zg==Zg==", "Zm 9v", "Zm9v\n", "Zm-_",
                               "Zm9v=", "Zg=a", "Z\xffgg"})
    EXPECT_FALSE(base64_decode(bad)) << bad;
}

TEST(Base64, RoundTripsRandomBytes) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 500; ++i) {
    std::string bytes(rng() % 300, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string text = base64_encode(bytes);
    EXPECT_EQ(text.size() % 4, 0u);
    EXPECT_EQ(base64_decode(text), bytes);
  }
}

TEST(Uint, OneSpellingPerValue) {
  std::string out;
  append_uint(out, 0);
  out += ',';
  append_uint(out, UINT64_MAX);
  EXPECT_EQ(out, "0,18446744073709551615");
  EXPECT_EQ(parse_uint("0"), 0u);
  EXPECT_EQ(parse_uint("42"), 42u);
  EXPECT_EQ(parse_uint("18446744073709551615"), UINT64_MAX);
  for (std::string_view bad : {"", "-1", "+1", "01", "00", "1.0", " 1", "1 ", "0x10", "18446744073709551616",
                               "99999999999999999999", "1e3"})
    EXPECT_FALSE(parse_uint(bad)) << bad;
  EXPECT_EQ(parse_uint("4294967295", UINT32_MAX), UINT32_MAX);
  EXPECT_FALSE(parse_uint("4294967296", UINT32_MAX));
}

TEST(Mode, FourOctalDigitsOfThePermissionBits) {
  EXPECT_EQ(mode(0), "0000");
  EXPECT_EQ(mode(0755), "0755");
  EXPECT_EQ(mode(04755), "4755");
  EXPECT_EQ(mode(07777), "7777");
  EXPECT_EQ(mode(0100644), "0644");  // file-type bits are not permissions
  EXPECT_EQ(parse_mode("0755"), 0755u);
  EXPECT_EQ(parse_mode("7777"), 07777u);
  for (std::string_view bad : {"755", "00755", "0758", "10000", "0x1f", "", "-755", "075 "})
    EXPECT_FALSE(parse_mode(bad)) << bad;
}

TEST(Mtime, SecondsAreTheFloorAndNanosecondsAreNeverNegative) {
  EXPECT_EQ(mtime(0), "0.000000000");
  EXPECT_EQ(mtime(1), "0.000000001");
  EXPECT_EQ(mtime(1'700'000'000'123'456'789), "1700000000.123456789");
  EXPECT_EQ(mtime(-1), "-1.999999999");               // 1969-12-31T23:59:59.999999999Z
  EXPECT_EQ(mtime(-1'000'000'000), "-1.000000000");
  EXPECT_EQ(mtime(-1'500'000'000), "-2.500000000");   // -1.5 s = -2 s + 0.5 s
  EXPECT_EQ(mtime(INT64_MAX), "9223372036.854775807");
  EXPECT_EQ(mtime(INT64_MIN), "-9223372037.145224192");
}

TEST(Mtime, ParsesExactlyWhatIsWritten) {
  for (std::int64_t ns : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{-999'999'999},
                          std::int64_t{-1'000'000'000}, std::int64_t{-1'000'000'001}, INT64_MAX, INT64_MIN,
                          INT64_MIN + 1, INT64_MAX - 1, std::int64_t{1'700'000'000'123'456'789}})
    EXPECT_EQ(parse_mtime(mtime(ns)), ns) << mtime(ns);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; ++i) {
    const auto ns = static_cast<std::int64_t>(rng());
    EXPECT_EQ(parse_mtime(mtime(ns)), ns);
  }
}

TEST(Mtime, RejectsOtherSpellingsAndOverflow) {
  for (std::string_view bad : {"0", "0.", "1.5", "1.0000000000", "1.00000000", "-0.000000001", "-0.000000000",
                               "01.000000000", "+1.000000000", "1.00000000a", "1,000000000", " 1.000000000",
                               ".000000000", "-.000000000", "1.-00000000", "9223372036.854775808",
                               "-9223372037.145224191", "99999999999999999999.000000000", "1e9.000000000"})
    EXPECT_FALSE(parse_mtime(bad)) << bad;
}

TEST(Timestamp, Rfc3339UtcWithNanoseconds) {
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_timestamp(1'795'672'509'123'456'789), "2026-11-26T05:55:09.123456789Z");
  EXPECT_EQ(format_timestamp(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_timestamp(951'782'400 * std::int64_t{1'000'000'000}), "2000-02-29T00:00:00.000000000Z");
  EXPECT_EQ(format_timestamp(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
  EXPECT_EQ(format_timestamp(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  std::mt19937_64 rng(5);
  for (int i = 0; i < 1000; ++i) {
    const auto ns = static_cast<std::int64_t>(rng());
    EXPECT_EQ(parse_timestamp(format_timestamp(ns)), ns) << format_timestamp(ns);
  }
  EXPECT_EQ(parse_timestamp("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
  EXPECT_EQ(parse_timestamp("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
}

TEST(Timestamp, RejectsOtherShapesAndImpossibleDates) {
  for (std::string_view bad : {"2026-11-26T05:55:09Z", "2026-11-26T05:55:09.123Z", "2026-11-26 05:55:09.123456789Z",
                               "2026-11-26T05:55:09.123456789+00:00", "2026-11-26T05:55:09.123456789z",
                               "2026-13-01T00:00:00.000000000Z", "2026-02-29T00:00:00.000000000Z",
                               "2026-04-31T00:00:00.000000000Z", "2026-00-10T00:00:00.000000000Z",
                               "2026-01-00T00:00:00.000000000Z", "2026-01-01T24:00:00.000000000Z",
                               "2026-01-01T00:60:00.000000000Z", "2016-12-31T23:59:60.000000000Z",
                               "2262-04-11T23:47:16.854775808Z", "1677-09-21T00:12:43.145224191Z",
                               "9999-12-31T23:59:59.999999999Z", "+026-11-26T05:55:09.123456789Z", ""})
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
}

TEST(Sha256Text, LowerCaseHexOnly) {
  const Sha256Digest d = Sha256::of("abc");
  std::string out;
  append_sha256(out, d);
  EXPECT_EQ(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(parse_sha256(out), d);
  std::string upper = out;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(parse_sha256(upper));
  EXPECT_FALSE(parse_sha256(out.substr(0, 63)));
  EXPECT_FALSE(parse_sha256(out + "0"));
  EXPECT_FALSE(parse_sha256(out.substr(0, 63) + "g"));
}

}  // namespace
}  // namespace tb
