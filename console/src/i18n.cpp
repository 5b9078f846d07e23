#include "arc/console/i18n.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace arc::console {
namespace {

using entry = std::pair<std::string_view, std::string_view>;

// English → Italian, sorted by the English text at first use.
constexpr std::array italian_table = {
    // the team's client
    entry{"#{}: key-safe code shown (audited)",
          "#{}: codice cassetta chiavi mostrato (registrato)"},
    entry{"#{}: no key-safe code for this mission",
          "#{}: nessun codice cassetta chiavi per questa missione"},
    entry{"#{}: mission accepted", "#{}: missione accettata"},
    entry{"#{}: mission declined", "#{}: missione rifiutata"},
    entry{"#{}: on the way", "#{}: in viaggio"},
    entry{"#{}: on site", "#{}: sul posto"},
    entry{"#{}: mission done", "#{}: missione conclusa"},
    entry{"no mission selected", "nessuna missione selezionata"},
    entry{"#{}: not now (the mission is {})", "#{}: non ora (la missione è {})"},
    entry{"say why the team declines", "scrivi perché la squadra rifiuta"},
    entry{"a referral needs the hand-over note",
          "l'invio al Servizio Sociale richiede la nota di passaggio"},
    entry{"{} missions open", "{} missioni aperte"},
    entry{"Why does the team decline #{}? ", "Perché la squadra rifiuta #{}? "},
    entry{"Mission #{} done: outcome", "Missione #{} conclusa: esito"},
    entry{"Hand-over note for the social services: ",
          "Nota di passaggio per il Servizio Sociale: "},
    entry{"Note (Enter: none): ", "Nota (Invio: nessuna): "},
    entry{"no missions", "nessuna missione"},
    entry{"missions not available", "missioni non disponibili"},
    entry{"dispatched {} by {}", "inviata {} da {}"},
    entry{"Instructions", "Istruzioni"},
    entry{"phone", "telefono"},
    entry{"key safe", "cassetta chiavi"},
    entry{"(audited)", "(registrato)"},
    entry{"key safe: c shows the code (audited)",
          "cassetta chiavi: c mostra il codice (registrato)"},
    entry{"Contacts", "Contatti"},
    entry{"Mission", "Missione"},
    entry{"mission", "missione"},
    entry{"not accepted in time: escalated {}", "non accettata in tempo: escalation {}"},
    entry{"reason", "motivo"},
    entry{"outcome", "esito"},
    entry{"accept", "accetta"},
    entry{"on the way", "in viaggio"},
    entry{"on site", "sul posto"},
    entry{"done", "concludi"},
    entry{"decline", "rifiuta"},
    entry{"{} open", "{} aperti"},
    entry{"DISCONNECTED — retrying in {}s", "DISCONNESSO — nuovo tentativo tra {}s"},
    entry{"DISCONNECTED — connecting…", "DISCONNESSO — connessione in corso…"},
    entry{"connecting…", "connessione…"},
    entry{"operator login", "accesso operatore"},
    entry{"Server", "Server"},
    entry{"Username", "Utente"},
    entry{"Password", "Password"},
    entry{"Enter: next / log in   Esc: clear   F10: quit",
          "Invio: avanti / accedi   Esc: cancella   F10: esci"},
    entry{"logging in…", "accesso in corso…"},
    entry{"wrong username or password", "nome utente o password errati"},
    entry{"account locked until {}", "account bloccato fino alle {}"},
    entry{"session expired: log in again", "sessione scaduta: accedi di nuovo"},
    entry{"not allowed to use the console: {}", "accesso alla console non consentito: {}"},
    entry{"queue", "coda"},
    entry{"detail", "dettaglio"},
    entry{"no open alarms", "nessun allarme aperto"},
    entry{"no alarm selected", "nessun allarme selezionato"},
    entry{"loading…", "caricamento…"},
    entry{"STORM: {} alarms", "TEMPESTA: {} allarmi"},
    entry{"Alarm", "Allarme"},
    entry{"account", "conto"},
    entry{"zone", "zona"},
    entry{"events", "eventi"},
    entry{"opened", "aperto"},
    entry{"last event", "ultimo evento"},
    entry{"holder", "operatore"},
    entry{"team", "squadra"},
    entry{"escalation level {}", "livello di escalation {}"},
    entry{"restored at {}", "ripristino alle {}"},
    entry{"storm of {} alarms", "tempesta di {} allarmi"},
    entry{"Subscriber", "Assistito"},
    entry{"no subscriber record", "nessuna scheda assistito"},
    entry{"{} years", "{} anni"},
    entry{"code", "codice"},
    entry{"status", "stato"},
    entry{"until", "fino al"},
    entry{"Address", "Indirizzo"},
    entry{"floor", "piano"},
    entry{"access", "accesso"},
    entry{"Phones", "Telefoni"},
    entry{"Lives", "Vive"},
    entry{"Vulnerability", "Vulnerabilità"},
    entry{"Guardian", "Tutela"},
    entry{"GP", "Medico"},
    entry{"Contacts (key holders first)", "Contatti (prima chi ha le chiavi)"},
    entry{"has key", "ha le chiavi"},
    entry{"reachable", "reperibile"},
    entry{"Medical notes", "Note mediche"},
    entry{"Key-safe code", "Codice cassetta chiavi"},
    entry{"sensitive data hidden: press s while you hold the alarm",
          "dati sensibili nascosti: premi s mentre hai l'allarme"},
    entry{"Device", "Dispositivo"},
    entry{"no device record", "nessun dispositivo"},
    entry{"last seen", "ultimo contatto"},
    entry{"never", "mai"},
    entry{"battery", "batteria"},
    entry{"low (alarm #{} open)", "scarica (allarme #{} aperto)"},
    entry{"no low-battery report", "nessuna segnalazione"},
    entry{"mode", "modalità"},
    entry{"Timeline", "Cronologia"},
    entry{"Events", "Eventi"},
    entry{"Storm members", "Membri della tempesta"},
    entry{"select", "scegli"},
    entry{"take", "prendi"},
    entry{"release", "rilascia"},
    entry{"ack", "conferma"},
    entry{"note", "nota"},
    entry{"call", "chiamata"},
    entry{"dispatch", "invia"},
    entry{"close", "chiudi"},
    entry{"sensitive", "sensibili"},
    entry{"pane", "pannello"},
    entry{"lang", "lingua"},
    entry{"supervisor", "supervisione"},
    entry{"quit", "esci"},
    entry{"back", "indietro"},
    entry{"Note for #{}: ", "Nota per #{}: "},
    entry{"Called whom (#{}): ", "Chi è stato chiamato (#{}): "},
    entry{"Number: ", "Numero: "},
    entry{"Call outcome", "Esito della chiamata"},
    entry{"Team for #{}: ", "Squadra per #{}: "},
    entry{"Dispatch #{}: teams on duty, loading…", "Invio #{}: squadre di turno, caricamento…"},
    entry{"Dispatch #{} to (on duty now, available first)",
          "Invia #{} a (di turno ora, disponibili prima)"},
    entry{"Instructions for {}: ", "Istruzioni per {}: "},
    entry{"on duty until {}", "di turno fino alle {}"},
    entry{"available", "disponibile"},
    entry{"Phone report", "Segnalazione telefonica"},
    entry{"Phone report: what about?", "Segnalazione: di che cosa?"},
    entry{"Phone report: how urgent?", "Segnalazione: quanto è urgente?"},
    entry{"Phone report: who is calling?", "Segnalazione: chi chiama?"},
    entry{"Caller's name (Enter: none): ", "Nome del chiamante (Invio: nessuno): "},
    entry{"Caller's number (Enter: none): ", "Numero del chiamante (Invio: nessuno): "},
    entry{"Person (subscriber code or name): ", "Persona (codice assistito o nome): "},
    entry{"Comune (Enter: the subscriber's): ", "Comune (Invio: quello dell'assistito): "},
    entry{"Address (Enter: the subscriber's): ", "Indirizzo (Invio: quello dell'assistito): "},
    entry{"What was reported: ", "Cosa è stato riferito: "},
    entry{"phone report #{} opened", "segnalazione #{} aperta"},
    entry{"phone report not opened: {}", "segnalazione non aperta: {}"},
    entry{"urgent report", "urgente"},
    entry{"phone report", "segnalazione"},
    entry{"critical: a life at risk", "critica: vita in pericolo"},
    entry{"frail_elderly", "anziano fragile"},
    entry{"housing_emergency", "emergenza abitativa"},
    entry{"essential_goods", "beni di prima necessità"},
    entry{"domestic_violence", "violenza domestica"},
    entry{"minor_in_danger", "minore in pericolo"},
    entry{"Caller", "Chiamante"},
    entry{"Person", "Persona"},
    entry{"Place", "Luogo"},
    entry{"Reported", "Riferito"},
    entry{"citizen", "cittadino"},
    entry{"police", "forze dell'ordine"},
    entry{"health_service", "servizio sanitario"},
    entry{"social_service", "servizio sociale"},
    entry{"other", "altro"},
    entry{"on a mission", "in missione"},
    entry{"another team (type its name)", "altra squadra (scrivi il nome)"},
    entry{"no team on duty covers {}: type a team name",
          "nessuna squadra di turno copre {}: scrivi il nome di una squadra"},
    entry{"no proposal ({}): type a team name",
          "nessuna proposta ({}): scrivi il nome di una squadra"},
    entry{"Close #{} with outcome", "Chiudi #{} con esito"},
    entry{"Outcome for #{}: ", "Esito per #{}: "},
    entry{"Enter: confirm  Esc: cancel", "Invio: conferma  Esc: annulla"},
    entry{"take the alarm to see the sensitive data",
          "prendi l'allarme per vedere i dati sensibili"},
    entry{"#{}: {}", "#{}: {}"},
    entry{"held by {}", "già preso da {}"},
    entry{"#{} taken", "#{} preso"},
    entry{"#{} released", "#{} rilasciato"},
    entry{"#{} acknowledged", "#{} confermato"},
    entry{"#{}: note saved", "#{}: nota salvata"},
    entry{"#{}: call logged", "#{}: chiamata registrata"},
    entry{"#{} dispatched", "#{} inviato"},
    entry{"#{} closed", "#{} chiuso"},
    entry{"#{}: sensitive data shown (audited)", "#{}: dati sensibili mostrati (registrato)"},
    entry{"this arcd has no {} command", "questo arcd non ha il comando {}"},
    entry{"supervisor view: only for supervisors and admins",
          "vista supervisione: solo per supervisori e amministratori"},
    entry{"Supervisor view", "Vista supervisione"},
    entry{"supervisor view not available on this arcd",
          "vista supervisione non disponibile su questo arcd"},
    entry{"Operators", "Operatori"},
    entry{"online", "in linea"},
    entry{"offline", "non in linea"},
    entry{"holds", "ha"},
    entry{"Untaken", "Non presi"},
    entry{"critical", "critici"},
    entry{"urgent", "urgenti"},
    entry{"technical", "tecnici"},
    entry{"Storms", "Tempeste"},
    entry{"none", "nessuna"},
    entry{"subscription overflow: resynchronising", "coda di notifiche piena: risincronizzo"},
    entry{"connection lost: {}", "connessione persa: {}"},
    entry{"terminal too small", "terminale troppo piccolo"},
    entry{"language: English", "lingua: italiano"},
    entry{"the text is empty", "il testo è vuoto"},
    entry{"Storm", "Tempesta"},
    entry{"members", "membri"},
};

const std::array<entry, italian_table.size()>& sorted_italian() {
    static const auto table = [] {
        auto t = italian_table;
        std::sort(t.begin(), t.end());
        return t;
    }();
    return table;
}

struct labels {
    std::string_view key;
    std::string_view it;
    std::string_view en;
};

constexpr std::array class_labels = {
    labels{"critical", "CRIT", "CRIT"},
    labels{"urgent", "URG", "URG"},
    labels{"technical", "TECN", "TECH"},
    labels{"log_only", "LOG", "LOG"},
};

constexpr std::array state_labels = {
    labels{"new", "nuovo", "new"},
    labels{"taken", "preso", "taken"},
    labels{"acknowledged", "confermato", "acked"},
    labels{"dispatched", "inviato", "dispatched"},
    labels{"accepted", "accettato", "accepted"},
    labels{"on_the_way", "in viaggio", "on the way"},
    labels{"on_site", "sul posto", "on site"},
    labels{"mission_done", "missione ok", "done"},
    labels{"closed", "chiuso", "closed"},
    // mission states (mission.list)
    labels{"done", "conclusa", "done"},
    labels{"declined", "rifiutata", "declined"},
};

constexpr std::array mission_outcome_labels = {
    labels{"resolved_on_site", "risolto sul posto", "resolved on site"},
    labels{"shelter_placement", "inserimento in struttura", "shelter placement"},
    labels{"essential_goods_delivery", "consegna beni essenziali", "essential goods delivered"},
    labels{"health_services_accompaniment", "accompagnamento ai servizi sanitari",
           "accompanied to health services"},
    labels{"social_services_referral", "invio al Servizio Sociale Professionale",
           "referral to the Servizio Sociale Professionale"},
};

constexpr std::array kind_labels = {
    labels{"personal_emergency", "Richiesta di soccorso", "Emergency call"},
    labels{"fall", "Caduta", "Fall"},
    labels{"phone_report", "Segnalazione telefonica", "Phone report"},
    labels{"medical", "Emergenza medica", "Medical"},
    labels{"fire", "Incendio", "Fire"},
    labels{"smoke", "Fumo", "Smoke"},
    labels{"heat", "Calore", "Heat"},
    labels{"co", "Monossido", "Carbon monoxide"},
    labels{"gas", "Gas", "Gas"},
    labels{"panic", "Panico", "Panic"},
    labels{"duress", "Coercizione", "Duress"},
    labels{"inactivity", "Inattività", "Inactivity"},
    labels{"door_exit", "Uscita porta", "Door exit"},
    labels{"flood", "Allagamento", "Flood"},
    labels{"temperature", "Temperatura", "Temperature"},
    labels{"low_battery", "Batteria scarica", "Low battery"},
    labels{"mains_loss", "Mancanza rete", "Mains loss"},
    labels{"tamper", "Manomissione", "Tamper"},
    labels{"comms_fail", "Guasto comunicazione", "Comms failure"},
    labels{"supervision_fail", "Supervisione fallita", "Supervision failure"},
    labels{"rf_jamming", "Disturbo radio", "RF jamming"},
    labels{"device_silent", "Dispositivo silente", "Device silent"},
    labels{"trouble", "Guasto", "Trouble"},
    labels{"periodic_test", "Test periodico", "Periodic test"},
    labels{"manual_test", "Test manuale", "Manual test"},
    labels{"restore", "Ripristino", "Restore"},
    labels{"open_close", "Apertura/chiusura", "Open/close"},
    labels{"system", "Sistema", "System"},
    labels{"unknown", "Sconosciuto", "Unknown"},
};

constexpr std::array call_outcome_labels = {
    labels{"answered", "ha risposto", "answered"},
    labels{"no_answer", "nessuna risposta", "no answer"},
    labels{"busy", "occupato", "busy"},
    labels{"wrong_number", "numero errato", "wrong number"},
    labels{"voicemail", "segreteria", "voicemail"},
};

constexpr std::array change_labels = {
    labels{"opened", "aperto", "opened"},
    labels{"merged", "nuovo evento", "merged"},
    labels{"transitioned", "passaggio", "step"},
    labels{"escalated", "escalation", "escalated"},
    labels{"restore_noted", "ripristino", "restore"},
    labels{"closed", "chiuso", "closed"},
    labels{"noted", "nota", "note"},
    labels{"called", "chiamata", "call"},
    labels{"released", "rilasciato", "released"},
    labels{"reassigned", "riassegnato", "reassigned"},
    labels{"storm_grouped", "tempesta", "storm"},
    labels{"storm_joined", "in tempesta", "joined storm"},
    labels{"storm_closed", "tempesta chiusa", "storm closed"},
};

template <std::size_t N>
std::string_view lookup(const std::array<labels, N>& table, lang l, std::string_view key) {
    for (const labels& e : table) {
        if (e.key == key) {
            return l == lang::it ? e.it : e.en;
        }
    }
    return key;
}

}  // namespace

std::string_view to_string(lang l) noexcept { return l == lang::it ? "it" : "en"; }

std::string_view tr(lang l, std::string_view english) noexcept {
    if (l == lang::en) {
        return english;
    }
    const auto& table = sorted_italian();
    const auto it =
        std::lower_bound(table.begin(), table.end(), english,
                         [](const entry& e, std::string_view key) { return e.first < key; });
    if (it != table.end() && it->first == english) {
        return it->second;
    }
    return english;
}

std::string_view class_label(lang l, std::string_view cls) noexcept {
    return lookup(class_labels, l, cls);
}

std::string_view state_label(lang l, std::string_view state) noexcept {
    return lookup(state_labels, l, state);
}

std::string_view kind_label(lang l, std::string_view kind) noexcept {
    return lookup(kind_labels, l, kind);
}

std::string_view call_outcome_label(lang l, std::string_view code) noexcept {
    return lookup(call_outcome_labels, l, code);
}

std::string_view mission_outcome_label(lang l, std::string_view code) noexcept {
    return lookup(mission_outcome_labels, l, code);
}

std::string_view change_label(lang l, std::string_view change) noexcept {
    return lookup(change_labels, l, change);
}

}  // namespace arc::console
