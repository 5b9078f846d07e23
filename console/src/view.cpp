#include "arc/console/view.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "arc/console/text.hpp"

namespace arc::console {
namespace {

using nlohmann::json;

// ---- small helpers ---------------------------------------------------------------------------

std::string fmt_tr(lang l, std::string_view english, const auto&... args) {
    return fmt::format(fmt::runtime(tr(l, english)), args...);
}

std::string str(const json& obj, const char* name) {
    if (!obj.is_object()) {
        return {};
    }
    const auto it = obj.find(name);
    if (it == obj.end()) {
        return {};
    }
    if (it->is_string()) {
        return it->get<std::string>();
    }
    if (it->is_number()) {
        return it->dump();
    }
    return {};
}

std::string join_strings(const json& arr, std::string_view sep) {
    std::string out;
    if (!arr.is_array()) {
        return out;
    }
    for (const json& v : arr) {
        if (!v.is_string() || v.get<std::string>().empty()) {
            continue;
        }
        if (!out.empty()) {
            out += sep;
        }
        out += v.get<std::string>();
    }
    return out;
}

color class_color(std::string_view cls) {
    if (cls == "critical") {
        return color::red;
    }
    if (cls == "urgent") {
        return color::yellow;
    }
    if (cls == "technical") {
        return color::cyan;
    }
    return color::normal;
}

style class_style(std::string_view cls) { return style{class_color(cls), cls == "critical"}; }

// A run of text in one style; a line is a few of them.
struct segment {
    std::string text;
    style st;
};
using line = std::vector<segment>;

line plain(std::string text, style st = {}) { return line{segment{std::move(text), st}}; }

// Cuts a line into rows of at most `width` columns at spaces when it can; continuation rows
// are indented by two.
std::vector<line> wrap(const line& in, std::size_t width) {
    std::vector<line> out;
    if (width < 4) {
        out.push_back(in);
        return out;
    }
    // Flatten into code points with styles.
    std::vector<std::pair<char32_t, style>> cps;
    for (const segment& s : in) {
        for (const char32_t cp : decode_utf8(s.text)) {
            cps.emplace_back(cp, s.st);
        }
    }
    std::size_t pos = 0;
    bool first = true;
    while (pos < cps.size() || first) {
        const std::size_t avail = first ? width : width - 2;
        std::size_t take = std::min(avail, cps.size() - pos);
        if (pos + take < cps.size()) {
            // Break at the last space inside the window, if there is one past a third of it.
            for (std::size_t k = take; k > avail / 3; --k) {
                if (cps[pos + k - 1].first == U' ') {
                    take = k;
                    break;
                }
            }
        }
        line row;
        if (!first) {
            row.push_back(segment{"  ", {}});
        }
        for (std::size_t k = pos; k < pos + take; ++k) {
            std::string ch;
            append_utf8(ch, cps[k].first);
            if (!row.empty() && row.back().st == cps[k].second && (first || row.size() > 1)) {
                row.back().text += ch;
            } else {
                row.push_back(segment{std::move(ch), cps[k].second});
            }
        }
        out.push_back(std::move(row));
        pos += take;
        first = false;
        while (pos < cps.size() && cps[pos].first == U' ') {
            ++pos;
        }
    }
    return out;
}

int put_line(grid& g, int row, int col, const line& l, int width) {
    int x = 0;
    for (const segment& s : l) {
        if (x >= width) {
            break;
        }
        x += g.put(row, col + x, s.text, s.st, width - x);
    }
    return x;
}

// ---- queue ---------------------------------------------------------------------------------

struct columns_layout {
    int id = 0;  // 0: not shown
    int cls = 5;
    int esc = 3;
    int age = 6;
    int state = 0;
    int holder = 0;
    int who = 0;
};

columns_layout layout_for(int width) {
    if (width >= 78) {
        return {7, 5, 3, 7, 11, 11, 19};
    }
    if (width >= 60) {
        return {6, 5, 3, 6, 9, 9, 12};
    }
    if (width >= 40) {
        return {0, 5, 3, 6, 9, 9, 0};
    }
    return {0, 5, 3, 6, 0, 0, 0};
}

void queue_header(grid& g, const app& a, int row, int x0, int width, bool focused) {
    const lang l = a.language();
    const columns_layout c = layout_for(width);
    std::string h = " ";
    const bool it = l == lang::it;
    if (c.id > 0) {
        h += pad("#", static_cast<std::size_t>(c.id));
    }
    h += pad(it ? "CLAS" : "CLAS", static_cast<std::size_t>(c.cls));
    h += pad("ESC", static_cast<std::size_t>(c.esc));
    h += pad(it ? "ETÀ " : "AGE ", static_cast<std::size_t>(c.age), true);
    if (c.state > 0) {
        h += " " + pad(it ? "STATO" : "STATE", static_cast<std::size_t>(c.state - 1));
    }
    if (c.holder > 0) {
        h += pad(it ? "OPERATORE" : "HOLDER", static_cast<std::size_t>(c.holder));
    }
    if (c.who > 0) {
        h += pad(it ? "ASSISTITO/CONTO" : "SUBSCRIBER/ACCT", static_cast<std::size_t>(c.who));
    }
    h += it ? "TIPO" : "KIND";
    const style st{color::normal, true, focused};
    g.paint(row, x0, width, st);
    g.put(row, x0, h, st, width);
}

void queue_row(grid& g, const app& a, const queue_entry& e, int row, int x0, int width,
               bool selected, std::int64_t now_ms) {
    const lang l = a.language();
    const bool ascii = a.opts().ascii;
    const columns_layout c = layout_for(width);
    const style base{color::normal, false, selected};
    g.paint(row, x0, width, base);
    int x = x0;
    const int right = x0 + width;
    const auto col = [&](const std::string& text, int w, style st, bool right_align = false) {
        if (w <= 0 || x >= right) {
            return;
        }
        const std::string cell_text = pad(text, static_cast<std::size_t>(w - 1), right_align) + " ";
        x += g.put(row, x, cell_text, st, right - x);
    };
    x += g.put(row, x, selected ? ">" : " ", base, right - x);
    style cls_st = class_style(e.cls);
    cls_st.reverse = selected;
    if (c.id > 0) {
        col(fmt::format("#{}", e.id), c.id, cls_st);
    }
    col(std::string(class_label(l, e.cls)), c.cls, cls_st);
    std::string esc;
    if (e.level > 0) {
        esc = fmt::format("{}{}", ascii ? "!" : "\u25b2", e.level);
    }
    style esc_st{color::red, true, selected};
    col(esc, c.esc, esc_st);
    const std::int64_t opened = e.opened_ms;
    col(opened > 0 ? format_age(now_ms - opened) : "", c.age, base, true);
    col(std::string(state_label(l, e.state)), c.state, base);
    col(e.holder, c.holder, base);
    if (c.who > 0) {
        const std::string name = a.name_of(e.account);
        col(name.empty() ? e.account : name, c.who, base);
    }
    std::string kind =
        e.storm ? fmt_tr(l, "STORM: {} alarms", e.members) : std::string(kind_label(l, e.kind));
    if (x < right) {
        g.put(row, x, fit(kind, static_cast<std::size_t>(right - x), true, ascii), base, right - x);
    }
}

void render_queue(grid& g, const app& a, int top, int rows, int x0, int width,
                  std::int64_t now_ms) {
    if (rows <= 0 || width <= 0) {
        return;
    }
    queue_header(g, a, top, x0, width, a.focus() == pane::queue);
    const int list_rows = rows - 1;
    if (list_rows <= 0) {
        return;
    }
    const auto& entries = a.queue().entries();
    const lang l = a.language();
    if (entries.empty()) {
        const bool waiting = !a.queue().loaded();
        g.put(top + 1, x0 + 1, std::string(tr(l, waiting ? "connecting…" : "no open alarms")), {},
              width - 1);
        return;
    }
    const std::size_t sel = a.selected() ? a.queue().index_of(*a.selected()).value_or(0) : 0;
    const auto page = static_cast<std::size_t>(list_rows);
    const std::size_t first = (sel / page) * page;
    for (std::size_t i = first; i < entries.size() && i < first + page; ++i) {
        queue_row(g, a, entries[i], top + 1 + static_cast<int>(i - first), x0, width,
                  a.selected() == entries[i].id, now_ms);
    }
}

// ---- detail --------------------------------------------------------------------------------

void section(std::vector<line>& out, std::string title) {
    out.push_back(plain("— " + title + " —", style{color::normal, true}));
}

void subscriber_lines(std::vector<line>& out, const app& a, const detail_state& d,
                      std::int64_t now_ms) {
    const lang l = a.language();
    // Without a record the section is one line: the timeline below stays on a small screen.
    if (!d.subscriber.is_object()) {
        std::string why = d.subscriber_loading         ? std::string(tr(l, "loading…"))
                          : d.subscriber_error.empty() ? std::string(tr(l, "no subscriber record"))
                                                       : d.subscriber_error;
        out.push_back(line{
            segment{"— " + std::string(tr(l, "Subscriber")) + " — ", style{color::normal, true}},
            segment{std::move(why), {}}});
        return;
    }
    section(out, std::string(tr(l, "Subscriber")));
    const json& s = d.subscriber;
    std::string head = str(s, "first_name");
    if (const std::string last = str(s, "last_name"); !last.empty()) {
        head += head.empty() ? last : " " + last;
    }
    if (const auto years = age_in_years(str(s, "birth_date"), now_ms)) {
        head += " (" + fmt_tr(l, "{} years", *years) + ")";
    }
    line first{segment{head, style{color::normal, true}}};
    std::string rest;
    if (const std::string code = str(s, "code"); !code.empty()) {
        rest += "  " + std::string(tr(l, "code")) + " " + code;
    }
    const std::string status = str(s, "status");
    if (!status.empty()) {
        rest += "  " + std::string(tr(l, "status")) + " " + status;
        if (const std::string until = str(s, "away_until"); !until.empty()) {
            rest += " " + std::string(tr(l, "until")) + " " + until;
        }
    }
    first.push_back(
        segment{rest, style{status == "active" || status.empty() ? color::normal : color::yellow}});
    out.push_back(std::move(first));

    const json addr = s.value("address", json::object());
    std::string where = str(addr, "street");
    if (const std::string n = str(addr, "number"); !n.empty()) {
        where += " " + n;
    }
    if (const std::string fl = str(addr, "floor"); !fl.empty()) {
        where += ", " + std::string(tr(l, "floor")) + " " + fl;
    }
    if (const std::string comune = str(addr, "comune"); !comune.empty()) {
        where += where.empty() ? comune : ", " + comune;
    }
    line addr_line{segment{std::string(tr(l, "Address")) + ": " + where, {}}};
    if (const std::string access = str(addr, "access_notes"); !access.empty()) {
        addr_line.push_back(segment{" — " + std::string(tr(l, "access")) + ": " + access,
                                    style{color::yellow, true}});
    }
    out.push_back(std::move(addr_line));
    if (const std::string phones = join_strings(s.value("phones", json::array()), ", ");
        !phones.empty()) {
        out.push_back(plain(std::string(tr(l, "Phones")) + ": " + phones));
    }
    std::string lives;
    if (const std::string ls = str(s, "living_situation"); !ls.empty()) {
        lives = std::string(tr(l, "Lives")) + ": " + ls;
    }
    if (const std::string v = str(s, "vulnerability"); !v.empty()) {
        lives += (lives.empty() ? "" : "  ") + std::string(tr(l, "Vulnerability")) + ": " + v;
    }
    if (!lives.empty()) {
        out.push_back(plain(lives));
    }
    if (const json g = s.value("guardian", json()); g.is_object()) {
        std::string kind = str(g, "kind");
        if (kind == "amministratore_di_sostegno") {
            kind = "amm. di sostegno";
        }
        out.push_back(plain(std::string(tr(l, "Guardian")) + ": " + str(g, "name") + " (" + kind +
                            ") " + str(g, "phone")));
    }
    if (const json gp = s.value("gp", json()); gp.is_object()) {
        out.push_back(
            plain(std::string(tr(l, "GP")) + ": " + str(gp, "name") + " " + str(gp, "phone")));
    }
    const json contacts = s.value("contacts", json::array());
    if (contacts.is_array() && !contacts.empty()) {
        out.push_back(plain(std::string(tr(l, "Contacts (key holders first)")) + ":"));
        std::vector<const json*> ordered;
        for (const json& c : contacts) {
            if (c.is_object()) {
                ordered.push_back(&c);
            }
        }
        std::stable_sort(ordered.begin(), ordered.end(), [](const json* x, const json* y) {
            return x->value("has_key", false) && !y->value("has_key", false);
        });
        for (const json* c : ordered) {
            const bool key = c->value("has_key", false);
            line row{segment{" " + str(*c, "priority") + ". " + str(*c, "name"),
                             style{color::normal, true}}};
            if (const std::string rel = str(*c, "relation"); !rel.empty()) {
                row.push_back(segment{" (" + rel + ")", {}});
            }
            if (const std::string ph = join_strings(c->value("phones", json::array()), ", ");
                !ph.empty()) {
                row.push_back(segment{" " + ph, {}});
            }
            if (key) {
                row.push_back(
                    segment{" [" + std::string(tr(l, "has key")) + "]", style{color::green, true}});
            }
            if (const std::string r = str(*c, "reachable"); !r.empty()) {
                row.push_back(segment{" " + std::string(tr(l, "reachable")) + ": " + r, {}});
            }
            out.push_back(std::move(row));
        }
    }
    if (d.sensitive && a.holds_selected()) {
        const style st{color::magenta, true};
        out.push_back(line{segment{std::string(tr(l, "Medical notes")) + ": ", st},
                           segment{str(s, "medical_notes"), {}}});
        out.push_back(line{segment{std::string(tr(l, "Key-safe code")) + ": ", st},
                           segment{str(s, "key_safe_code"), {}}});
    } else {
        out.push_back(
            plain(std::string(tr(l, "sensitive data hidden: press s while you hold the alarm")),
                  style{color::magenta}));
    }
}

void device_lines(std::vector<line>& out, const app& a, const detail_state& d,
                  const queue_entry* e) {
    const lang l = a.language();
    line head{segment{"— " + std::string(tr(l, "Device")) + " — ", style{color::normal, true}}};
    if (!d.device.is_object()) {
        head.push_back(
            segment{d.device_error.empty() ? std::string(tr(l, "loading…")) : d.device_error, {}});
        out.push_back(std::move(head));
        return;
    }
    const json& dev = d.device;
    std::string text = str(dev, "account") + " " + str(dev, "type");
    if (const std::string label = str(dev, "label"); !label.empty()) {
        text += " \"" + label + "\"";
    }
    text += "  " + std::string(tr(l, "mode")) + " " + str(dev, "mode");
    const std::string seen = str(dev, "last_seen");
    text += "  " + std::string(tr(l, "last seen")) + " " +
            (seen.empty() ? std::string(tr(l, "never")) : clock_of(seen)) + "  ";
    head.push_back(segment{std::move(text), {}});
    line& battery = head;
    battery.push_back(segment{std::string(tr(l, "battery")) + ": ", {}});
    if (const auto low = a.low_battery_alarm(e != nullptr ? e->account : str(dev, "account"))) {
        battery.push_back(segment{fmt_tr(l, "low (alarm #{} open)", *low), style{color::yellow}});
    } else {
        battery.push_back(segment{std::string(tr(l, "no low-battery report")), {}});
    }
    out.push_back(std::move(head));
}

std::string event_summary(const json& ev) {
    const json decoded = ev.value("decoded", json::object());
    if (const json sia = decoded.value("sia", json()); sia.is_object()) {
        const json events = sia.value("events", json::array());
        std::string out;
        for (const json& se : events) {
            if (!out.empty()) {
                out += ", ";
            }
            out += str(se, "code") + str(se, "address");
            if (const std::string m = str(se, "meaning"); !m.empty()) {
                out += " " + m;
            }
        }
        if (!out.empty()) {
            return out;
        }
    }
    if (const json cid = decoded.value("cid", json()); cid.is_object()) {
        return str(cid, "qualifier") + str(cid, "code") + " " + str(cid, "meaning");
    }
    return str(ev, "raw");
}

// A phone report's case: who called, about whom, where, what was reported.
void case_lines(std::vector<line>& out, lang l, const json& c) {
    section(out, std::string(tr(l, "Phone report")));
    const json caller = c.value("caller", json::object());
    const json person = c.value("person", json::object());
    const json place = c.value("place", json::object());
    std::string who = std::string(tr(l, "Caller")) + ": " + std::string(tr(l, str(caller, "kind")));
    for (const char* k : {"name", "phone"}) {
        if (const std::string v = str(caller, k); !v.empty()) {
            who += " · " + v;
        }
    }
    out.push_back(plain(who));
    std::string person_text = std::string(tr(l, "Person")) + ": " + str(person, "name");
    if (const std::string v = str(person, "details"); !v.empty()) {
        person_text += " — " + v;
    }
    out.push_back(plain(person_text, style{color::normal, true}));
    std::string where = str(place, "address");
    where += (where.empty() ? "" : ", ") + str(place, "comune");
    out.push_back(plain(std::string(tr(l, "Place")) + ": " + where));
    out.push_back(plain(std::string(tr(l, "Reported")) + ": " + str(c, "summary")));
}

std::vector<line> detail_lines(const app& a, std::int64_t now_ms) {
    const lang l = a.language();
    std::vector<line> out;
    const detail_state& d = a.detail();
    if (!a.selected()) {
        out.push_back(plain(std::string(
            tr(l, a.queue().entries().empty() ? "no open alarms" : "no alarm selected"))));
        return out;
    }
    const queue_entry* e = a.queue().find(*a.selected());
    const json alarm = d.show.is_object() ? d.show.value("alarm", json::object()) : json();
    const std::string cls = e != nullptr ? e->cls : str(alarm, "class");
    const std::string kind = e != nullptr ? e->kind : str(alarm, "kind");
    std::string text = str(alarm, "text");
    if (text.empty()) {
        text = std::string(kind_label(l, kind));
    }
    line head{segment{fmt::format("#{} {}", *a.selected(), class_label(l, cls)), class_style(cls)},
              segment{" " + text, style{color::normal, true}}};
    if (e != nullptr) {
        std::string rest = " · " + std::string(state_label(l, e->state));
        if (!e->holder.empty()) {
            rest += " · " + e->holder;
        }
        if (e->opened_ms > 0) {
            rest += " · " + format_age(now_ms - e->opened_ms);
        }
        head.push_back(segment{rest, {}});
    }
    out.push_back(std::move(head));
    if (!d.show.is_object()) {
        out.push_back(plain(d.show_error.empty() ? std::string(tr(l, "loading…")) : d.show_error,
                            d.show_error.empty() ? style{} : style{color::red}));
        if (e != nullptr && !e->storm && !e->account.empty()) {
            subscriber_lines(out, a, d, now_ms);
            device_lines(out, a, d, e);
        }
        return out;
    }
    std::string facts;
    if (const std::string acct = str(alarm, "account"); !acct.empty()) {
        facts += std::string(tr(l, "account")) + " " + acct + "  ";
    }
    if (const std::string zone = str(alarm, "zone"); !zone.empty()) {
        facts += std::string(tr(l, "zone")) + " " + zone + "  ";
    }
    facts += std::string(tr(l, "events")) + " " + str(alarm, "event_count") + "  " +
             std::string(tr(l, "opened")) + " " + clock_of(str(alarm, "opened")) + "  " +
             std::string(tr(l, "last event")) + " " + clock_of(str(alarm, "last_event"));
    out.push_back(plain(facts));
    std::string extra;
    if (const int level = alarm.value("level", 0); level > 0) {
        extra += fmt_tr(l, "escalation level {}", level) + "  ";
    }
    if (const std::string team = str(alarm, "team"); !team.empty()) {
        extra += std::string(tr(l, "team")) + " " + team + "  ";
    }
    if (const std::string restored = str(alarm, "restored"); !restored.empty()) {
        extra += fmt_tr(l, "restored at {}", clock_of(restored));
    }
    if (!extra.empty()) {
        out.push_back(plain(extra, style{color::yellow}));
    }
    const bool storm = alarm.value("storm", false);
    if (storm) {
        out.push_back(plain(fmt_tr(l, "storm of {} alarms", alarm.value("members", 0)),
                            style{color::cyan, true}));
        std::string ids;
        for (const json& m : d.show.value("members", json::array())) {
            ids += (ids.empty() ? "#" : " #") + m.dump();
        }
        if (!ids.empty()) {
            out.push_back(plain(std::string(tr(l, "Storm members")) + ": " + ids));
        }
    } else {
        if (const auto c = d.show.find("case"); c != d.show.end() && c->is_object()) {
            case_lines(out, l, *c);
        }
        subscriber_lines(out, a, d, now_ms);
        device_lines(out, a, d, e);
    }
    section(out, std::string(tr(l, "Timeline")));
    for (const json& entry : d.show.value("timeline", json::array())) {
        std::string t =
            clock_of(str(entry, "at")) + " " + std::string(change_label(l, str(entry, "change")));
        if (const std::string from = str(entry, "from"), to = str(entry, "to");
            !from.empty() || !to.empty()) {
            t += " " + std::string(state_label(l, from)) + (a.opts().ascii ? "->" : "→") +
                 std::string(state_label(l, to));
        }
        if (const std::string actor = str(entry, "actor"); !actor.empty()) {
            t += " " + actor;
        }
        if (const std::string detail = str(entry, "detail"); !detail.empty()) {
            t += ": " + detail;
        }
        out.push_back(plain(t));
    }
    const json events = d.show.value("events", json::array());
    if (events.is_array() && !events.empty()) {
        section(out, std::string(tr(l, "Events")));
        const std::size_t n = events.size();
        for (std::size_t i = n > 10 ? n - 10 : 0; i < n; ++i) {
            out.push_back(
                plain(clock_of(str(events[i], "received")) + " " + event_summary(events[i])));
        }
    }
    return out;
}

void render_picker(grid& g, const app& a, int top, int rows, int x0, int width) {
    const prompt_state& p = a.prompt();
    for (std::size_t i = 0; i < p.choices.size() && static_cast<int>(i) < rows; ++i) {
        const bool sel = i == p.choice;
        const style st{color::normal, sel, sel};
        const int row = top + static_cast<int>(i);
        g.paint(row, x0, width, st);
        g.put(row, x0, fmt::format(" {}. {}", i + 1, p.choices[i].second), st, width);
    }
}

void render_detail(grid& g, const app& a, int top, int rows, int x0, int width,
                   std::int64_t now_ms) {
    if (rows <= 0 || width <= 0) {
        return;
    }
    if (a.prompt().picking()) {
        render_picker(g, a, top, rows, x0, width);
        return;
    }
    std::vector<line> wrapped;
    for (const line& l : detail_lines(a, now_ms)) {
        for (line& w : wrap(l, static_cast<std::size_t>(width))) {
            wrapped.push_back(std::move(w));
        }
    }
    const std::size_t visible = static_cast<std::size_t>(rows);
    const std::size_t max_scroll = wrapped.size() > visible ? wrapped.size() - visible : 0;
    const std::size_t scroll = std::min(a.detail().scroll, max_scroll);
    for (std::size_t i = 0; i < visible && scroll + i < wrapped.size(); ++i) {
        put_line(g, top + static_cast<int>(i), x0, wrapped[scroll + i], width);
    }
}

// ---- bars ----------------------------------------------------------------------------------

void title_bar(grid& g, const app& a, int width, std::int64_t now_ms, std::string_view title) {
    const lang l = a.language();
    if (a.link_state() == link::disconnected) {
        const style st{color::red, true, true};
        g.paint(0, 0, width, st);
        const std::int64_t left = std::max<std::int64_t>(0, a.retry_at_ms() - now_ms);
        std::string text =
            " " + (left > 0 ? fmt_tr(l, "DISCONNECTED — retrying in {}s", (left + 999) / 1000)
                            : std::string(tr(l, "DISCONNECTED — connecting…")));
        if (!a.last_disconnect().empty()) {
            text += " (" + a.last_disconnect() + ")";
        }
        g.put(0, 0, fit(text, static_cast<std::size_t>(width), true, a.opts().ascii), st);
        return;
    }
    const style st{color::normal, true, true};
    g.paint(0, 0, width, st);
    std::string text = " " + std::string(title);
    if (!a.me().empty()) {
        text += " · " + a.me();
        if (!a.role().empty() && !a.team_mode()) {
            text += " (" + a.role() + ")";
        }
    }
    if (a.live() && a.team_mode()) {
        std::size_t open = 0;
        for (const json& m : a.missions().list) {
            open += m.value("open", false) ? 1U : 0U;
        }
        text += " · " + fmt_tr(l, "{} missions open", open);
    } else if (a.live()) {
        text += " · " + fmt_tr(l, "{} open", a.queue().open_count());
    } else {
        text += " · " + std::string(tr(l, "connecting…"));
    }
    const std::string clock = clock_of_ms(now_ms) + " ";
    const int clock_w = static_cast<int>(clock.size());
    g.put(
        0, 0,
        fit(text, static_cast<std::size_t>(std::max(0, width - clock_w - 1)), true, a.opts().ascii),
        st);
    if (width > clock_w + 20) {
        g.put(0, width - clock_w, clock, st);
    }
}

struct key_item {
    std::string key;
    std::string label;
    bool optional;      // dropped first when the bar does not fit
    std::string brief;  // the label when the full ones do not fit (empty: the label)
};

void key_bar(grid& g, int row, int width, const std::vector<key_item>& items) {
    // Levels: every item with its label; without the optional items; brief labels; keys only.
    const auto label_of = [](const key_item& k, int level) -> std::string {
        if (level >= 3) {
            return {};
        }
        return level == 2 && !k.brief.empty() ? k.brief : k.label;
    };
    const auto total = [&](int level) {
        int w = 0;
        for (const key_item& k : items) {
            if (level >= 1 && k.optional) {
                continue;
            }
            w += static_cast<int>(columns(k.key)) + 1;
            if (const std::string l = label_of(k, level); !l.empty()) {
                w += static_cast<int>(columns(l)) + 1;
            }
        }
        return w - 1;  // no space after the last
    };
    int level = 0;
    while (level < 3 && total(level) > width) {
        ++level;
    }
    int x = 0;
    for (const key_item& k : items) {
        if (level >= 1 && k.optional) {
            continue;
        }
        if (x >= width) {
            break;
        }
        x += g.put(row, x, k.key, style{color::normal, true, true}, width - x);
        if (const std::string l = label_of(k, level); !l.empty()) {
            x += g.put(row, x, " " + l, {}, width - x);
        }
        x += g.put(row, x, " ", {}, width - x);
    }
}

std::vector<key_item> main_keys(const app& a) {
    const lang l = a.language();
    const auto t = [l](std::string_view s) { return std::string(tr(l, s)); };
    const bool it = l == lang::it;
    std::vector<key_item> items = {
        {"↑↓", t("select"), true, ""},
        {"t", t("take"), false, ""},
        {"r", t("release"), false, it ? "rilas" : "rel"},
        {"a", t("ack"), false, it ? "conf" : ""},
        {"n", t("note"), false, ""},
        {"c", t("call"), false, it ? "chiam" : ""},
        {"d", t("dispatch"), false, it ? "" : "disp"},
        {"x", t("close"), false, ""},
        {"p", t("phone report"), true, it ? "segn" : "phone"},
        {"s", t("sensitive"), false, "sens"},
        {"Tab", t("pane"), true, ""},
        {"L", t("lang"), true, ""},
    };
    if (a.may_supervise()) {
        items.push_back({"v", t("supervisor"), false, it ? "piano" : "floor"});
    }
    items.push_back({"q", t("quit"), false, ""});
    return items;
}

void status_row(grid& g, const app& a, int row, int width, std::int64_t now_ms) {
    const lang l = a.language();
    const prompt_state& p = a.prompt();
    if ((a.current_screen() == screen::main || a.current_screen() == screen::missions) &&
        p.active()) {
        std::string label;
        switch (p.k) {
            case prompt_state::kind::note:
                label = fmt_tr(l, "Note for #{}: ", p.alarm);
                break;
            case prompt_state::kind::call_whom:
                label = fmt_tr(l, "Called whom (#{}): ", p.alarm);
                break;
            case prompt_state::kind::call_number:
                label = std::string(tr(l, "Number: "));
                break;
            case prompt_state::kind::call_outcome:
                label = std::string(tr(l, "Call outcome"));
                break;
            case prompt_state::kind::dispatch_pick:
                label = p.loading
                            ? fmt_tr(l, "Dispatch #{}: teams on duty, loading…", p.alarm)
                            : fmt_tr(l, "Dispatch #{} to (on duty now, available first)", p.alarm);
                break;
            case prompt_state::kind::dispatch_team:
                label = fmt_tr(l, "Team for #{}: ", p.alarm);
                break;
            case prompt_state::kind::dispatch_instructions:
                label = fmt_tr(l, "Instructions for {}: ", p.team);
                break;
            case prompt_state::kind::close_pick:
                label = fmt_tr(l, "Close #{} with outcome", p.alarm);
                break;
            case prompt_state::kind::close_text:
                label = fmt_tr(l, "Outcome for #{}: ", p.alarm);
                break;
            case prompt_state::kind::case_category:
                label = std::string(tr(l, "Phone report: what about?"));
                break;
            case prompt_state::kind::case_urgency:
                label = std::string(tr(l, "Phone report: how urgent?"));
                break;
            case prompt_state::kind::case_caller:
                label = std::string(tr(l, "Phone report: who is calling?"));
                break;
            case prompt_state::kind::case_caller_name:
                label = std::string(tr(l, "Caller's name (Enter: none): "));
                break;
            case prompt_state::kind::case_caller_phone:
                label = std::string(tr(l, "Caller's number (Enter: none): "));
                break;
            case prompt_state::kind::case_person:
                label = std::string(tr(l, "Person (subscriber code or name): "));
                break;
            case prompt_state::kind::case_comune:
                label = std::string(tr(l, "Comune (Enter: the subscriber's): "));
                break;
            case prompt_state::kind::case_address:
                label = std::string(tr(l, "Address (Enter: the subscriber's): "));
                break;
            case prompt_state::kind::case_summary:
                label = std::string(tr(l, "What was reported: "));
                break;
            case prompt_state::kind::mission_decline:
                label = fmt_tr(l, "Why does the team decline #{}? ", p.alarm);
                break;
            case prompt_state::kind::mission_outcome:
                label = fmt_tr(l, "Mission #{} done: outcome", p.alarm);
                break;
            case prompt_state::kind::mission_note:
                label = p.outcome == "social_services_referral"
                            ? std::string(tr(l, "Hand-over note for the social services: "))
                            : std::string(tr(l, "Note (Enter: none): "));
                break;
            case prompt_state::kind::none:
                break;
        }
        const style st{color::normal, true};
        int x = g.put(row, 0, label, st);
        if (!p.picking()) {
            // The end of the input stays visible: the text scrolls left as it grows.
            const int room = width - x - 1;
            std::u32string input = p.input;
            if (room > 0 && static_cast<int>(input.size()) > room) {
                input.erase(0, input.size() - static_cast<std::size_t>(room));
            }
            x += g.put(row, x, encode_utf8(input), {});
            g.put(row, x, "_", style{color::normal, false, true});
        }
        return;
    }
    const status_line& s = a.status();
    if (!s.text.empty() && now_ms - s.at_ms < 30000) {
        g.put(row, 0, fit(s.text, static_cast<std::size_t>(width), true, a.opts().ascii),
              style{s.error ? color::red : color::green, s.error});
    }
}

// ---- screens ---------------------------------------------------------------------------------

void render_main(grid& g, const app& a, std::int64_t now_ms) {
    const int h = g.rows();
    const int w = g.cols();
    title_bar(g, a, w, now_ms, "arc-console");
    const int content_top = 1;
    const int content_h = h - 3;
    if (w >= 140) {
        const int qw = 80;
        render_queue(g, a, content_top, content_h, 0, qw, now_ms);
        for (int r = content_top; r < content_top + content_h; ++r) {
            g.put(r, qw, a.opts().ascii ? "|" : "│");
        }
        const int dx = qw + 2;
        const style st{color::normal, true, a.focus() == pane::detail};
        g.paint(content_top, dx, w - dx, st);
        g.put(content_top, dx, std::string(tr(a.language(), "detail")), st, w - dx);
        render_detail(g, a, content_top + 1, content_h - 1, dx, w - dx, now_ms);
    } else if (content_h < 5) {
        render_queue(g, a, content_top, content_h, 0, w, now_ms);
    } else {
        // The queue gets two fifths (8 lines at 24 rows), the detail the rest.
        const int queue_rows = std::max(2, (content_h - 1) * 2 / 5);
        render_queue(g, a, content_top, queue_rows, 0, w, now_ms);
        const int sep = content_top + queue_rows;
        const style st{color::normal, true, a.focus() == pane::detail};
        std::string bar = a.opts().ascii ? "-- " : "── ";
        bar += tr(a.language(), "detail");
        bar += " ";
        const std::string fill = a.opts().ascii ? "-" : "─";
        while (static_cast<int>(columns(bar)) < w) {
            bar += fill;
        }
        g.put(sep, 0, bar, st);
        render_detail(g, a, sep + 1, h - 2 - (sep + 1), 0, w, now_ms);
    }
    if (h >= 3) {
        status_row(g, a, h - 2, w, now_ms);
    }
    if (a.prompt().active()) {
        const lang l = a.language();
        key_bar(g, h - 1, w,
                {{"Enter", l == lang::it ? "conferma" : "confirm", false, ""},
                 {"Esc", l == lang::it ? "annulla" : "cancel", false, ""}});
    } else {
        key_bar(g, h - 1, w, main_keys(a));
    }
}

void render_login(grid& g, const app& a, std::int64_t now_ms) {
    const int h = g.rows();
    const int w = g.cols();
    const lang l = a.language();
    title_bar(g, a, w, now_ms, "arc-console");
    const login_form& f = a.login();
    const int top = std::max(1, h / 2 - 4);
    const int x = std::max(0, (w - 44) / 2);
    const int fw = w - x;
    g.put(top, x, "arc-console — " + std::string(tr(l, "operator login")),
          style{color::normal, true}, fw);
    g.put(top + 2, x,
          std::string(tr(l, "Server")) + ": " + a.opts().target + (a.opts().tls ? " (TLS)" : ""),
          {}, fw);
    const auto field = [&](int row, std::string_view label, const std::string& value, bool focus) {
        int cx = x + g.put(row, x, pad(tr(l, label), 10) + " ", {}, fw);
        cx += g.put(row, cx, value, style{color::normal, true}, w - cx);
        if (focus) {
            g.put(row, cx, "_", style{color::normal, false, true}, w - cx);
        }
    };
    field(top + 3, "Username", encode_utf8(f.username), f.field == 0);
    // The password is never echoed, not even as stars.
    field(top + 4, "Password", "", f.field == 1);
    if (f.busy) {
        g.put(top + 6, x, std::string(tr(l, "logging in…")), {}, fw);
    } else if (!f.error.empty()) {
        g.put(top + 6, x, f.error, style{color::red, true}, fw);
    }
    g.put(h - 1, 0, std::string(tr(l, "Enter: next / log in   Esc: clear   F10: quit")), {}, w);
}

void render_floor(grid& g, const app& a, std::int64_t now_ms) {
    const int h = g.rows();
    const int w = g.cols();
    const lang l = a.language();
    title_bar(g, a, w, now_ms, tr(l, "Supervisor view"));
    std::vector<line> out;
    const floor_state& f = a.floor();
    if (!f.data.is_object()) {
        out.push_back(plain(f.error.empty() ? std::string(tr(l, "loading…")) : f.error,
                            f.error.empty() ? style{} : style{color::red}));
    } else {
        section(out, std::string(tr(l, "Operators")));
        for (const json& op : f.data.value("operators", json::array())) {
            const bool online = op.value("online", false);
            std::string holds;
            for (const json& id : op.value("holding", json::array())) {
                holds += " #" + id.dump();
            }
            line row{segment{(online ? "● " : "○ ") + pad(str(op, "username"), 12),
                             style{online ? color::green : color::normal, online}},
                     segment{pad(str(op, "display_name"), 18) + pad(str(op, "role"), 11) +
                                 pad(tr(l, online ? "online" : "offline"), 13),
                             {}}};
            if (!holds.empty()) {
                row.push_back(segment{std::string(tr(l, "holds")) + holds, style{color::yellow}});
            }
            out.push_back(std::move(row));
        }
        const json untaken = f.data.value("untaken", json::object());
        out.push_back(plain(""));
        out.push_back(
            line{segment{std::string(tr(l, "Untaken")) + ": ", style{color::normal, true}},
                 segment{std::string(tr(l, "critical")) + " " + str(untaken, "critical") + "  ",
                         class_style("critical")},
                 segment{std::string(tr(l, "urgent")) + " " + str(untaken, "urgent") + "  ",
                         class_style("urgent")},
                 segment{std::string(tr(l, "technical")) + " " + str(untaken, "technical"),
                         class_style("technical")}});
        out.push_back(plain(""));
        section(out, std::string(tr(l, "Storms")));
        const json storms = f.data.value("storms", json::array());
        if (!storms.is_array() || storms.empty()) {
            out.push_back(plain(std::string(tr(l, "none"))));
        }
        for (const json& s : storms) {
            const auto opened = parse_iso8601_ms(str(s, "opened"));
            out.push_back(plain("#" + str(s, "id") + " " +
                                std::string(class_label(l, str(s, "class"))) + " " +
                                fmt_tr(l, "STORM: {} alarms", s.value("members", 0)) + " · " +
                                std::string(state_label(l, str(s, "state"))) + " · " +
                                (opened ? format_age(now_ms - *opened) : std::string())));
        }
    }
    int row = 1;
    for (const line& l0 : out) {
        for (const line& wl : wrap(l0, static_cast<std::size_t>(w))) {
            if (row >= h - 2) {
                break;
            }
            put_line(g, row++, 0, wl, w);
        }
    }
    status_row(g, a, h - 2, w, now_ms);
    key_bar(g, h - 1, w,
            {{"v", std::string(tr(l, "back")), false, ""},
             {"g", l == lang::it ? "aggiorna" : "refresh", false, ""},
             {"L", std::string(tr(l, "lang")), false, ""},
             {"q", std::string(tr(l, "quit")), false, ""}});
}

// ---- the team's client ----------------------------------------------------------------------

// "19:02 (5m)": the local clock of an ISO instant and how long ago.
std::string when(const json& m, const char* name, std::int64_t now_ms) {
    const std::string iso = str(m, name);
    const auto ms = parse_iso8601_ms(iso);
    if (!ms) {
        return {};
    }
    return clock_of(iso) + " (" + format_age(std::max<std::int64_t>(0, now_ms - *ms)) + ")";
}

std::string address_of(const json& s) {
    const json a = s.value("address", json::object());
    std::string out = str(a, "street");
    if (const std::string n = str(a, "number"); !n.empty()) {
        out += out.empty() ? n : " " + n;
    }
    if (const std::string c = str(a, "comune"); !c.empty()) {
        out += out.empty() ? c : ", " + c;
    }
    return out;
}

style mission_style(std::string_view state) {
    if (state == "dispatched") {
        return style{color::red, true};
    }
    if (state == "done" || state == "declined") {
        return style{};
    }
    return style{color::yellow, false};
}

void mission_row(grid& g, const app& a, const json& m, int row, int width, std::int64_t now_ms) {
    const lang l = a.language();
    const bool sel = m.value("alarm", alarm_id{0}) == a.missions().selected;
    const std::string state = str(m, "state");
    const style base{color::normal, sel, sel};
    g.paint(row, 0, width, base);
    const json s = m.value("subscriber", json::object());
    std::string who = s.is_object() ? str(s, "name") : std::string();
    if (who.empty()) {
        who = str(m, "text");
    }
    const auto dispatched = parse_iso8601_ms(str(m, "dispatched"));
    const std::string age =
        dispatched ? format_age(std::max<std::int64_t>(0, now_ms - *dispatched)) : std::string();
    int x = g.put(row, 0, fmt::format("#{:<5}", m.value("alarm", alarm_id{0})), base, width);
    style st = mission_style(state);
    st.reverse = sel;
    st.bold = st.bold || sel;
    x += g.put(row, x, pad(state_label(l, state), 11), st, width - x);
    const int age_w = static_cast<int>(columns(age)) + 1;
    const int room = width - x - age_w;
    if (room > 0) {
        std::string text = who;
        if (s.is_object()) {
            const std::string c = str(s.value("address", json::object()), "comune");
            if (!c.empty()) {
                text += " · " + c;
            }
        }
        g.put(row, x, fit(text, static_cast<std::size_t>(room), true, a.opts().ascii), base, room);
    }
    if (width - age_w > x) {
        g.put(row, width - age_w + 1, age, base);
    }
}

std::vector<line> mission_lines(const app& a, std::int64_t now_ms) {
    const lang l = a.language();
    std::vector<line> out;
    const missions_state& ms = a.missions();
    const json* mp = a.selected_mission();
    if (mp == nullptr) {
        out.push_back(plain(std::string(tr(l, !ms.loaded        ? "loading…"
                                              : ms.list.empty() ? "no missions"
                                                                : "no mission selected"))));
        return out;
    }
    const json& m = *mp;
    const std::string state = str(m, "state");
    const std::string cls = str(m, "class");
    line head{segment{fmt::format("#{} {}", m.value("alarm", alarm_id{0}), class_label(l, cls)),
                      class_style(cls)},
              segment{" " + str(m, "text"), style{color::normal, true}},
              segment{" · " + std::string(state_label(l, state)), mission_style(state)}};
    out.push_back(std::move(head));
    out.push_back(
        plain(fmt_tr(l, "dispatched {} by {}", when(m, "dispatched", now_ms), str(m, "operator"))));
    if (const std::string ins = str(m, "instructions"); !ins.empty()) {
        out.push_back(
            line{segment{std::string(tr(l, "Instructions")) + ": ", style{color::cyan, true}},
                 segment{ins, style{color::normal, true}}});
    }
    const json s = m.value("subscriber", json::object());
    if (s.is_object() && !s.empty()) {
        section(out, std::string(tr(l, "Person")));
        out.push_back(line{segment{str(s, "name"), style{color::normal, true}},
                           segment{str(s, "code").empty() ? "" : "  " + str(s, "code"), {}}});
        out.push_back(plain(address_of(s)));
        const json addr = s.value("address", json::object());
        if (const std::string floor = str(addr, "floor"); !floor.empty()) {
            out.push_back(plain(std::string(tr(l, "floor")) + ": " + floor));
        }
        if (const std::string notes = str(addr, "access_notes"); !notes.empty()) {
            out.push_back(
                line{segment{std::string(tr(l, "access")) + ": ", style{color::cyan, true}},
                     segment{notes, {}}});
        }
        if (const std::string phones = join_strings(s.value("phones", json::array()), ", ");
            !phones.empty()) {
            out.push_back(plain(std::string(tr(l, "phone")) + ": " + phones));
        }
        if (ms.key_safe_alarm == m.value("alarm", alarm_id{0}) && !ms.key_safe_code.empty()) {
            out.push_back(
                line{segment{std::string(tr(l, "key safe")) + ": ", style{color::cyan, true}},
                     segment{ms.key_safe_code, style{color::magenta, true}},
                     segment{" " + std::string(tr(l, "(audited)")), {}}});
        } else if (m.value("open", false) && s.value("has_key_safe", false)) {
            out.push_back(plain(std::string(tr(l, "key safe: c shows the code (audited)"))));
        }
        const json contacts = s.value("contacts", json::array());
        if (contacts.is_array() && !contacts.empty()) {
            section(out, std::string(tr(l, "Contacts")));
            for (const json& c : contacts) {
                std::string text = fmt::format("{}. {}", c.value("priority", 0), str(c, "name"));
                if (const std::string rel = str(c, "relation"); !rel.empty()) {
                    text += " (" + rel + ")";
                }
                if (const std::string ph = join_strings(c.value("phones", json::array()), ", ");
                    !ph.empty()) {
                    text += " " + ph;
                }
                if (c.value("has_key", false)) {
                    text += " · " + std::string(tr(l, "has key"));
                }
                out.push_back(plain(text));
            }
        }
    }
    section(out, std::string(tr(l, "Mission")));
    for (const auto& [field, label] :
         std::array<std::pair<const char*, std::string_view>, 5>{{{"accepted", "accepted"},
                                                                  {"on_the_way", "on_the_way"},
                                                                  {"on_site", "on_site"},
                                                                  {"done", "done"},
                                                                  {"declined", "declined"}}}) {
        if (const std::string w = when(m, field, now_ms); !w.empty()) {
            out.push_back(plain(pad(state_label(l, label), 11) + " " + w));
        }
    }
    if (const std::string w = when(m, "escalated", now_ms); !w.empty()) {
        out.push_back(
            plain(fmt_tr(l, "not accepted in time: escalated {}", w), style{color::red, true}));
    }
    if (const std::string r = str(m, "decline_reason"); !r.empty()) {
        out.push_back(plain(std::string(tr(l, "reason")) + ": " + r));
    }
    if (const std::string o = str(m, "outcome"); !o.empty()) {
        out.push_back(
            plain(std::string(tr(l, "outcome")) + ": " + std::string(mission_outcome_label(l, o))));
    }
    if (const std::string n = str(m, "note"); !n.empty()) {
        out.push_back(plain(std::string(tr(l, "note")) + ": " + n));
    }
    return out;
}

std::vector<key_item> mission_keys(const app& a) {
    const lang l = a.language();
    const auto t = [l](std::string_view s) { return std::string(tr(l, s)); };
    const json* m = a.selected_mission();
    const std::string state = m != nullptr ? str(*m, "state") : std::string();
    std::vector<key_item> items = {{"↑↓", t("select"), true, ""}};
    if (state == "dispatched") {
        items.push_back({"a", t("accept"), false, ""});
    }
    if (state == "accepted") {
        items.push_back({"w", t("on the way"), false, l == lang::it ? "via" : "way"});
    }
    if (state == "on_the_way") {
        items.push_back({"s", t("on site"), false, l == lang::it ? "posto" : "site"});
    }
    if (state == "on_site") {
        items.push_back({"f", t("done"), false, ""});
    }
    if (state == "dispatched") {
        items.push_back({"x", t("decline"), false, l == lang::it ? "rif" : "decl"});
    }
    if (m != nullptr && m->value("open", false) &&
        m->value("subscriber", json::object()).value("has_key_safe", false)) {
        items.push_back({"c", t("key safe"), false, l == lang::it ? "chiavi" : "keys"});
    }
    items.push_back({"L", t("lang"), true, ""});
    items.push_back({"q", t("quit"), false, ""});
    return items;
}

// The team's screen: its missions on top (open first), the selected one below.
void render_missions(grid& g, const app& a, std::int64_t now_ms) {
    const int h = g.rows();
    const int w = g.cols();
    const lang l = a.language();
    const missions_state& ms = a.missions();
    // The team's name first: at 60 columns the line holds it, the account and the count.
    title_bar(g, a, w, now_ms, ms.team.empty() ? "arc-console" : ms.team);
    const int content_h = h - 3;
    const int n = static_cast<int>(ms.list.size());
    const int list_rows = std::clamp(n, 1, std::max(2, content_h / 3));
    int selected_at = 0;
    for (int i = 0; i < n; ++i) {
        if (ms.list[static_cast<std::size_t>(i)].value("alarm", alarm_id{0}) == ms.selected) {
            selected_at = i;
        }
    }
    const int first = std::clamp(selected_at - list_rows + 1, 0, std::max(0, n - list_rows));
    if (n == 0) {
        g.put(1, 0,
              std::string(tr(l, !ms.error.empty() ? "missions not available"
                                : ms.loaded       ? "no missions"
                                                  : "loading…")),
              {}, w);
    }
    for (int i = 0; i < list_rows && first + i < n; ++i) {
        mission_row(g, a, ms.list[static_cast<std::size_t>(first + i)], 1 + i, w, now_ms);
    }
    const int sep = 1 + list_rows;
    std::string bar = a.opts().ascii ? "-- " : "── ";
    bar += tr(l, "mission");
    bar += " ";
    const std::string fill = a.opts().ascii ? "-" : "─";
    while (static_cast<int>(columns(bar)) < w) {
        bar += fill;
    }
    g.put(sep, 0, bar, style{color::normal, true});
    const int top = sep + 1;
    const int rows = h - 2 - top;
    if (rows > 0) {
        if (a.prompt().picking()) {
            render_picker(g, a, top, rows, 0, w);
        } else {
            std::vector<line> wrapped;
            for (const line& l0 : mission_lines(a, now_ms)) {
                for (line& wl : wrap(l0, static_cast<std::size_t>(w))) {
                    wrapped.push_back(std::move(wl));
                }
            }
            const std::size_t visible = static_cast<std::size_t>(rows);
            const std::size_t max_scroll = wrapped.size() > visible ? wrapped.size() - visible : 0;
            const std::size_t scroll = std::min(ms.scroll, max_scroll);
            for (std::size_t i = 0; i < visible && scroll + i < wrapped.size(); ++i) {
                put_line(g, top + static_cast<int>(i), 0, wrapped[scroll + i], w);
            }
        }
    }
    status_row(g, a, h - 2, w, now_ms);
    if (a.prompt().active()) {
        key_bar(g, h - 1, w,
                {{"Enter", l == lang::it ? "conferma" : "confirm", false, ""},
                 {"Esc", l == lang::it ? "annulla" : "cancel", false, ""}});
    } else {
        key_bar(g, h - 1, w, mission_keys(a));
    }
}

}  // namespace

// ---- grid ------------------------------------------------------------------------------------

grid::grid(int rows, int cols)
    : rows_(std::max(0, rows)),
      cols_(std::max(0, cols)),
      cells_(static_cast<std::size_t>(rows_) * static_cast<std::size_t>(cols_)) {}

std::size_t grid::index(int row, int col) const {
    if (row < 0 || col < 0 || row >= rows_ || col >= cols_) {
        throw std::out_of_range("grid cell outside the screen");
    }
    return static_cast<std::size_t>(row) * static_cast<std::size_t>(cols_) +
           static_cast<std::size_t>(col);
}

int grid::put(int row, int col, std::string_view text, style st, int max_cols) {
    if (row < 0 || row >= rows_ || col >= cols_) {
        return 0;
    }
    int written = 0;
    int x = col;
    for (const char32_t cp : decode_utf8(text)) {
        if (x >= cols_ || (max_cols >= 0 && written >= max_cols)) {
            break;
        }
        if (x >= 0) {
            cells_[index(row, x)] = cell{cp, st};
        }
        ++x;
        ++written;
    }
    return written;
}

void grid::paint(int row, int col, int n, style st) {
    if (row < 0 || row >= rows_) {
        return;
    }
    for (int x = std::max(0, col); x < cols_ && x < col + n; ++x) {
        cells_[index(row, x)].st = st;
    }
}

namespace {

char32_t ascii_of(char32_t cp) {
    if (cp < 0x80) {
        return cp;
    }
    struct pair {
        char32_t from;
        char32_t to;
    };
    static constexpr pair table[] = {
        {U'·', U'.'}, {U'—', U'-'}, {U'–', U'-'}, {U'…', U'~'}, {U'→', U'>'},  {U'▲', U'!'},
        {U'─', U'-'}, {U'│', U'|'}, {U'●', U'*'}, {U'○', U'o'}, {U'↑', U'^'},  {U'↓', U'v'},
        {U'à', U'a'}, {U'á', U'a'}, {U'â', U'a'}, {U'ä', U'a'}, {U'è', U'e'},  {U'é', U'e'},
        {U'ê', U'e'}, {U'ë', U'e'}, {U'ì', U'i'}, {U'í', U'i'}, {U'î', U'i'},  {U'ï', U'i'},
        {U'ò', U'o'}, {U'ó', U'o'}, {U'ô', U'o'}, {U'ö', U'o'}, {U'ù', U'u'},  {U'ú', U'u'},
        {U'û', U'u'}, {U'ü', U'u'}, {U'ç', U'c'}, {U'ñ', U'n'}, {U'À', U'A'},  {U'È', U'E'},
        {U'É', U'E'}, {U'Ì', U'I'}, {U'Ò', U'O'}, {U'Ù', U'U'}, {U'’', U'\''},
    };
    for (const pair& p : table) {
        if (p.from == cp) {
            return p.to;
        }
    }
    return U'?';
}

}  // namespace

void grid::to_ascii() {
    for (cell& c : cells_) {
        c.ch = ascii_of(c.ch);
    }
}

std::string grid::text(int row) const {
    std::u32string out;
    for (int x = 0; x < cols_; ++x) {
        out.push_back(at(row, x).ch);
    }
    while (!out.empty() && out.back() == U' ') {
        out.pop_back();
    }
    return encode_utf8(out);
}

std::string grid::dump() const {
    std::string out;
    for (int r = 0; r < rows_; ++r) {
        out += text(r);
        out += '\n';
    }
    return out;
}

// ---- render ----------------------------------------------------------------------------------

grid render(const app& a, int rows, int cols, std::int64_t now_ms) {
    grid g(rows, cols);
    if (g.rows() == 0 || g.cols() == 0) {
        return g;
    }
    if (g.rows() < 6 || g.cols() < 24) {
        g.put(0, 0, std::string(tr(a.language(), "terminal too small")));
        g.put(1, 0, fmt::format("{}x{}", cols, rows));
        return g;
    }
    switch (a.current_screen()) {
        case screen::login:
            render_login(g, a, now_ms);
            break;
        case screen::main:
            render_main(g, a, now_ms);
            break;
        case screen::floor:
            render_floor(g, a, now_ms);
            break;
        case screen::missions:
            render_missions(g, a, now_ms);
            break;
    }
    if (a.opts().ascii) {
        g.to_ascii();
    }
    return g;
}

}  // namespace arc::console
