# Parleys Seiten auf Deutsch: dieselben Nachrichten wie en.ftl, keine mehr und keine weniger.

## Formate
locale = de_DE
format-datetime = %-d. %B %Y, %H:%M UTC
language-name = Deutsch

## Layout
skip-to-content = Zum Inhalt springen
area-admin = Admin
area-vendor = Shop-Verwaltung
area-shop = Shop
nav-user = Ihr Konto
nav-area = Seiten: { $area }
nav-messages = Nachrichten
nav-stores = Shops
nav-customers = Kunden
nav-email-templates = E-Mail-Vorlagen
nav-email-settings = E-Mail-Einstellungen
nav-email-logs = E-Mail-Protokoll
nav-notifications = Benachrichtigungen
nav-team = Team
team-intro = Alle, die die Nachrichten Ihres Shops beantworten. Das Plattform-Team legt Mitglieder an und sperrt sie.
nav-settings = Einstellungen
settings-intro = Wie sich die Plattform für alle Shops verhält. Jede Änderung gilt sofort.
settings-default = Standard: { $default }
setting-message_attachment_max_size_mb = Größter Anhang in Megabyte (1 bis 100)
setting-require_email_verification = Kundinnen und Kunden, die sich registrieren, bestätigen ihre E-Mail-Adresse, bevor sie sich anmelden können
setting-customers_may_start_conversations = Kundinnen und Kunden dürfen Unterhaltungen mit ihrem Shop beginnen
setting-stores_may_contact_operator = Shop-Mitarbeitende dürfen Unterhaltungen mit dem Plattform-Team beginnen
setting-admin_oversight = Admins dürfen jede Unterhaltung zwischen Shops und Kundschaft lesen (jeder Zugriff wird im Prüfprotokoll festgehalten)
setting-response_target_hours = Stunden, in denen ein Shop der Kundschaft antworten soll (1 bis 720)
setting-late_reply_alert_percent = Admins benachrichtigen, wenn ein Shop mehr als diesen Anteil zu spät beantwortet (1 bis 100 %)
choice-yes = Ja
choice-no = Nein
nav-api-keys = API-Schlüssel
nav-webhooks = Webhooks
webhooks-intro-admin = Die Endpunkte Ihrer Plattform erhalten jedes Ereignis (Unterhaltung begonnen, Nachricht gesendet oder gelöscht, gelesen, geschlossen, wieder geöffnet, jemand kommt hinzu), signiert nach der Standard-Webhooks-Spezifikation, je Unterhaltung in Reihenfolge, wiederholt, bis sie mit 2xx antworten.
webhooks-intro-vendor = Die Endpunkte Ihrer Systeme erhalten die Ereignisse Ihres Shops (Unterhaltung begonnen, Nachricht gesendet oder gelöscht, gelesen, geschlossen, wieder geöffnet, jemand kommt hinzu), signiert nach der Standard-Webhooks-Spezifikation, je Unterhaltung in Reihenfolge, wiederholt, bis sie mit 2xx antworten.
webhooks-empty = Noch keine Endpunkte.
webhooks-create = Endpunkt hinzufügen
webhooks-create-button = Endpunkt hinzufügen
webhooks-col-url = URL
webhooks-col-events = Ereignisse
webhooks-description = Beschreibung (optional)
webhooks-events-hint = Nichts angekreuzt: jedes Ereignis.
webhooks-all-events = Jedes Ereignis
webhooks-secret-once = Das Signaturgeheimnis, nur dieses eine Mal angezeigt. Bewahren Sie es dort auf, wo Ihr Empfänger Signaturen prüft:
webhooks-off = Ausgeschaltet
webhooks-failing = Fehlerhaft
webhooks-failing-since = Jede Zustellung schlägt fehl seit
webhooks-turn-off = Ausschalten
webhooks-turn-on = Wieder einschalten
webhooks-delete = Entfernen
webhooks-all = Alle Endpunkte
webhooks-deliveries = Letzte Zustellungen
webhooks-no-deliveries = Noch nichts zugestellt.
webhooks-col-event = Ereignis
webhooks-col-attempts = Versuche
webhooks-col-answer = Letzte Antwort
webhooks-state-pending = Wartet
webhooks-state-delivered = Zugestellt
webhooks-state-failed = Aufgegeben
webhooks-next = nächster Versuch
keys-intro = Mit Schlüsseln legt das Backend Ihrer Plattform Shops, Mitarbeiter und Kunden an, führt Unterhaltungen und liest Ereignisse. Ein Schlüssel handelt als Plattform, nie als Person; alles, was er tut, wird unter seinem Namen festgehalten.
keys-col-key = Schlüssel
keys-col-scopes = Rechte
keys-col-last-used = Zuletzt benutzt
keys-col-action = Aktion
keys-col-target = An
keys-never-used = nie
keys-revoked = widerrufen
keys-revoke = Widerrufen
keys-empty = Noch keine Schlüssel. Legen Sie unten einen für das Backend Ihrer Plattform an.
keys-create = Schlüssel anlegen
keys-create-button = Schlüssel anlegen
keys-name-placeholder = z. B. Shop-Backend (Produktion)
keys-shown-once = Kopieren Sie diesen Schlüssel jetzt: Er wird nur einmal gezeigt, Parley speichert nur seinen Hash.
keys-all = Alle Schlüssel
keys-actions = Was dieser Schlüssel getan hat
keys-no-actions = Noch nichts.
scope-provision = Shops, Mitarbeiter und Kunden über Ihre IDs anlegen und ändern
scope-conversations = Unterhaltungen zu Bestellungen und Produkten finden oder beginnen
scope-events = alle Ereignisse lesen
scope-sso = Personen von Ihrer Plattform aus anmelden
nav-account = Konto
title-edit-template = Vorlage bearbeiten
badge-label = { $count ->
    [0] Nachrichten, keine ungelesen
   *[other] Nachrichten, { $count } ungelesen
}
sign-out = Abmelden
sign-in = Anmelden
yes = ja

## Start und Anmeldung
home-title = Willkommen
home-where = Wo möchten Sie sich anmelden?
home-shop = Im Shop, als Kunde
home-vendor = In der Shop-Verwaltung, als Mitarbeiter
home-admin = Im Admin-Bereich, als Plattform-Team
login-title-admin = Anmeldung im Admin-Bereich
login-title-vendor = Anmeldung in der Shop-Verwaltung
login-title-shop = Anmeldung im Shop
login-wrong = E-Mail-Adresse oder Passwort ist falsch.
login-too-many = Zu viele Versuche. Warten Sie ein paar Minuten und versuchen Sie es dann erneut.
login-forgot = Passwort vergessen?
login-unverified = Bestätigen Sie zuerst Ihre E-Mail-Adresse: Folgen Sie dem Link, den wir Ihnen bei der Registrierung geschickt haben.
login-password-changed = Ihr Passwort ist geändert. Melden Sie sich mit dem neuen an.
forgot-title = Passwort vergessen?
forgot-intro = Geben Sie die E-Mail-Adresse Ihres Kontos ein. Gibt es hier ein Konto dazu, schicken wir einen Link, mit dem Sie ein neues Passwort wählen.
forgot-send = Link senden
forgot-sent = Wenn es ein Konto mit dieser Adresse gibt, ist ein Link für ein neues Passwort unterwegs. Er gilt 60 Minuten.
forgot-bad-email = Geben Sie eine gültige E-Mail-Adresse ein.
forgot-again = Neuen Link anfordern
reset-title = Neues Passwort wählen
reset-new-password = Neues Passwort (mindestens 8 Zeichen)
reset-save = Neues Passwort speichern
reset-invalid = Dieser Link ist ungültig oder abgelaufen. Fordern Sie einen neuen an.
reset-too-short = Das Passwort muss mindestens 8 Zeichen haben.
verify-title = E-Mail-Adresse bestätigen
verify-intro = Bestätigen Sie, dass dies Ihre Adresse ist, um Ihr Konto zu eröffnen.
verify-confirm = Bestätigen und anmelden
back-to-sign-in = Zurück zur Anmeldung
field-store-code = Shop-Code
field-email = E-Mail
field-password = Passwort

## Fehlerseiten
error-unauthorized-title = Bitte melden Sie sich an
error-unauthorized-message = Für diese Seite müssen Sie angemeldet sein.
error-forbidden-title = Nicht erlaubt
error-forbidden-message = Ihr Konto darf diese Seite nicht öffnen.
error-not-found-title = Nicht gefunden
error-not-found-message = Diese Seite gibt es nicht, oder sie ist nicht für Sie bestimmt.
error-too-many-title = Zu viele Anfragen
error-too-many-message = Warten Sie einen Moment und versuchen Sie es dann erneut.
error-bad-request-title = Das hat nicht geklappt
error-bad-request-message = Die Anfrage war nicht verständlich.
error-server-title = Etwas ist schiefgelaufen
error-server-message = Bei uns ist etwas schiefgelaufen. Versuchen Sie es gleich noch einmal.
error-sign-in = Anmelden
error-to-messages = Zu Ihren Nachrichten

## Posteingang
list-label = Unterhaltungen
compose-open = Neue Unterhaltung
search-placeholder = Suchen
search-label = Unterhaltungen durchsuchen
filter-channel = Kanal
filter-all-channels = Alle Kanäle
filter-status = Status
filter-all = Alle
filter-open = Offen
filter-closed = Geschlossen
filter-apply = Filtern
filter-any = alle
channel-with-stores = Mit Shops
channel-with-customers = Mit Kunden
channel-with-platform = Mit der Plattform
party-admin = Plattform
party-store = Shop
party-customer = Kunde
list-closed = geschlossen
unread-count = { $count } ungelesen
list-empty-search = Keine Unterhaltung passt zu „{ $search }“.
list-clear-search = Suche zurücksetzen
list-empty-filters = Keine Unterhaltung passt zu diesen Filtern.
list-show-all = Alle zeigen
list-empty-shop = Noch keine Nachrichten. Wenn ein Shop Ihnen schreibt, erscheint die Unterhaltung hier.
list-empty-staff = Noch keine Unterhaltungen. Beginnen Sie eine mit „Neue Unterhaltung“.

## Eine Unterhaltung
thread-label = Unterhaltung
context-order = Bestellung
context-product = Produkt
context-offer = Angebot
context-return = Rücksendung
context-custom = Bezug
context-label = Betrifft
context-all = Alle Unterhaltungen dazu
context-filtered = Unterhaltungen zu { $type } { $id }
thread-back = Alle Unterhaltungen
thread-choose = Wählen Sie eine Unterhaltung.
thread-closed = Diese Unterhaltung ist geschlossen.
thread-closed-staff = Diese Unterhaltung ist geschlossen; öffnen Sie sie wieder, um zu schreiben.
thread-messages = Nachrichten
action-close = Schließen
action-reopen = Wieder öffnen
action-mute = Stumm
action-email-off = Keine E-Mails
action-delete = Löschen
message-deleted = Nachricht gelöscht
composer-label = Nachricht
composer-placeholder = Nachricht schreiben
composer-hint = Enter sendet, Umschalt+Enter beginnt eine neue Zeile
composer-attach = Dateien anhängen
composer-send = Senden
composer-progress = Fortschritt des Hochladens

system-closed = { $name } hat die Unterhaltung geschlossen
system-reopened = { $name } hat die Unterhaltung wieder geöffnet
system-preview-closed = Unterhaltung geschlossen
system-preview-reopened = Unterhaltung wieder geöffnet
system-escalated = { $name } hat die Plattform um Hilfe gebeten
system-resolved = { $name } hat die Eskalation abgeschlossen
system-assigned = { $name } hat die Unterhaltung zugewiesen
system-unassigned = { $name } hat die Zuweisung aufgehoben
system-preview-escalated = Die Plattform wurde um Hilfe gebeten
system-preview-resolved = Eskalation abgeschlossen
system-preview-assigned = Unterhaltung zugewiesen
system-preview-unassigned = Zuweisung aufgehoben
list-escalated = Plattform beteiligt
escalated-banner-admin = Eine Seite hat die Plattform um Hilfe gebeten. Schließen Sie die Eskalation ab, sobald alles geklärt ist.
escalated-banner-vendor = Das Plattform-Team ist beteiligt. Interne Notizen erreichen nur das Plattform-Team.
escalated-banner-shop = Das Plattform-Team ist beteiligt und liest mit.
escalated-reason = Begründung: „{ $reason }“
oversight-banner = Sie lesen diese Unterhaltung als Plattform (Aufsicht). Niemand sieht, dass Sie lesen, aber der Zugriff wird im Prüfprotokoll festgehalten; schreiben können Sie hier erst, wenn eine Seite die Plattform um Hilfe bittet.
action-no-reply-needed = Keine Antwort nötig
action-no-reply-needed-hint = Die letzte Nachricht braucht keine Antwort: die Antwortzeit anhalten
action-resolve = Eskalation abschließen
action-escalate = Plattform fragen
escalate-reason = Wobei soll die Plattform helfen?
escalate-hint = Alle in dieser Unterhaltung lesen Ihre Begründung.
escalate-send = Plattform um Hilfe bitten
internal-note = Interne Notiz
composer-internal = Interne Notiz (die Kundin oder der Kunde sieht sie nicht)
channel-stores-customers = Shops mit Kundschaft
nav-response-times = Antwortzeiten
nav-audit-log = Prüfprotokoll
response-intro = Wie schnell die Kundschaft eine Antwort bekommt. Das Ziel der Plattform sind { $hours } Std.; „keine Antwort nötig“ zählt weder als beantwortet noch als zu spät.
response-window = Zeitraum
response-days = Letzte { $days } Tage
response-col-store = Shop
response-col-first_response = Erste Antwort (Median)
response-col-response = Jede Antwort (Median)
response-col-within_target = Innerhalb des Ziels
response-col-overdue = Jetzt überfällig
response-col-waiting = Wartet jetzt
response-percent = { $percent } %
response-late-of = ({ $late } zu spät, { $answered } beantwortet)
response-empty = Noch keine Shops.
response-open-waiting = Unterhaltungen, die auf uns warten
response-open-overdue = Überfällige Unterhaltungen
duration-under-minute = unter einer Minute
duration-minutes = { $m } Min.
duration-hours = { $h } Std. { $m } Min.
duration-days = { $d } T. { $h } Std.
audit-intro = Jede Unterhaltung, die ein Admin gelesen hat, ohne daran teilzunehmen (Aufsicht), und was Integrationsschlüssel getan haben.
count-audit = { $count ->
    [one] 1 Eintrag
   *[other] { $count } Einträge
}
audit-col-who = Wer
audit-col-action = Aktion
audit-col-what = Was
audit-empty = Noch nichts festgehalten.
filter-waiting = Wartet auf uns
filter-overdue = Überfällig
list-waiting = Wartet auf Sie
filter-topic = Thema
filter-all-topics = Alle Themen
filter-assignee = Zugewiesen an
filter-anyone = Alle
filter-mine = Meine
filter-unassigned = Nicht zugewiesen
thread-topic = Thema
thread-no-topic = Kein Thema
thread-assignee = Zugewiesen an
thread-nobody = Niemand
composer-saved-reply = Textbaustein
composer-saved-choose = Einfügen…
compose-topic = Thema
nav-topics = Themen
nav-saved-replies = Textbausteine
nav-announcements = Ankündigungen
topics-intro = Worum es in Unterhaltungen geht. Jede Rolle sieht und wählt die Themen, die für sie offen sind; ausgemusterte Themen bleiben an ihren Unterhaltungen.
topics-col-en = Name (Englisch)
topics-col-de = Name (Deutsch)
topics-col-roles = Wer es wählen darf
topics-col-count = Unterhaltungen
topics-role-customer = Kundschaft
topics-role-store = Shops
topics-role-admin = Plattform
topics-retire = Ausmustern
topics-empty = Noch keine Themen.
topics-create = Thema hinzufügen
topics-create-button = Thema hinzufügen
replies-intro = Text, der sich im Eingabefeld einfügen lässt. Er kann diese Variablen nutzen, gefüllt aus der Unterhaltung:
replies-col-title = Titel
replies-col-body = Text
replies-col-from = Von
replies-from-store = Dem Shop
replies-from-platform = Der Plattform
replies-from-platform-shared = Der Plattform, für Shops freigegeben
replies-empty = Noch keine Textbausteine.
replies-create = Textbaustein speichern
replies-create-button = Speichern
replies-share = Allen Shops anbieten
announce-intro = Einmal an viele Shops schreiben. Jeder Shop bekommt eine eigene Unterhaltung mit dem Plattform-Team, seine Antworten bleiben privat.
announce-create = Neue Ankündigung
announce-to = An
announce-all = Alle Shops
announce-tier = Alle Shops im Tarif { $tier }
announce-store = Nur { $store }
announce-send = Ankündigung senden
announce-col-delivered = Erreichte Shops
announce-col-read = Gelesen von
announce-empty = Noch keine Ankündigungen.

## Eine Unterhaltung beginnen
compose-channel = Kanal
compose-with-store = Mit einem Shop
compose-with-customer = Mit einem Kunden
compose-with-platform = Mit dem Plattform-Team
compose-with-your-store = Mit dem Shop
compose-team-admin = Das ganze Team sieht die Nachricht.
compose-team-vendor = Das ganze Plattform-Team sieht die Nachricht.
compose-team-shop = Alle Mitarbeitenden des Shops sehen die Nachricht und können antworten.
channel-with-store = Mit dem Shop
compose-recipient = Empfänger
compose-recipient-placeholder = Nach Name oder E-Mail suchen
compose-about = Worum geht es? (optional)
compose-about-type = Art
compose-about-nothing = Nichts Bestimmtes
compose-about-id = Nummer oder Kennung
compose-about-label = Bezeichnung (optional)
js-about-needs-id = Geben Sie die Nummer oder Kennung dessen an, worum es geht.
compose-subject = Betreff
compose-message = Nachricht
compose-start = Beginnen
action-cancel = Abbrechen

## Tabellen und Formulare
pager-label = Seiten
pager-range = { $from }–{ $to } von { $counted }
pager-prev = Zurück
pager-next = Weiter
count-stores = { $count ->
    [0] Keine Shops
    [one] 1 Shop
   *[other] { $count } Shops
}
count-staff = { $count ->
    [0] Keine Mitarbeiter
    [one] 1 Mitarbeiter
   *[other] { $count } Mitarbeitern
}
count-customers = { $count ->
    [0] Keine Kunden
    [one] 1 Kunde
   *[other] { $count } Kunden
}
count-emails = { $count ->
    [0] Keine E-Mails
    [one] 1 E-Mail
   *[other] { $count } E-Mails
}
count-notifications = { $count ->
    [0] Keine Benachrichtigungen
    [one] 1 Benachrichtigung
   *[other] { $count } Benachrichtigungen
}
col-id = Nr.
col-code = Code
col-name = Name
col-tier = Tarif
col-state = Zustand
col-language = Sprache
col-signs-in = Anmeldung
col-actions = Aktionen
col-created = Erstellt
col-recipient = Empfänger
col-template = Vorlage
col-subject = Betreff
col-status = Status
col-attempts = Versuche
col-problem = Problem
col-category = Kategorie
col-stores = Shops
col-in-use = Verwendet
col-when = Wann
col-priority = Priorität
col-type = Art
col-title = Titel
col-message = Nachricht
state-active = aktiv
state-inactive = inaktiv
state-disabled = gesperrt
state-read = gelesen
state-new = neu
action-disable = Sperren
action-enable = Entsperren
action-save = Speichern
action-create = Anlegen
action-preview = Vorschau
action-retry = Erneut senden
action-mark-read = Als gelesen markieren
form-saved = Gespeichert.
secret-set = gesetzt — leer lassen, um es zu behalten
secret-not-set = nicht gesetzt
field-password-optional = Passwort (optional: ohne Passwort keine Anmeldung)
field-password-rule = Passwort (mindestens 10 Zeichen)
field-store-code-rule = Code (a-z, 0-9, -)
tier-essential = Essential
tier-professional = Professional
tier-business = Business
tier-enterprise = Enterprise

## Shops, Mitarbeiter, Kunden
stores-all = Alle Shops
stores-empty = Noch keine Shops. Legen Sie unten den ersten an.
stores-add = Shop anlegen
stores-add-button = Shop anlegen
staff-title = Mitarbeiter
staff-empty = Noch keine Mitarbeiter. Legen Sie unten den ersten an: Er meldet sich unter /vendor/login an.
staff-add = Mitarbeiter anlegen
staff-add-button = Mitarbeiter anlegen
customers-add = Kunden anlegen
customers-add-button = Kunden anlegen
customers-no-password = kein Passwort
customers-empty-admin = Noch keine Kunden. Sie registrieren sich im Shop, oder Sie legen sie unten an.
customers-empty-store = Noch keine Kunden. Sie registrieren sich in Ihrem Shop, oder Sie legen sie unten an und schreiben ihnen.

## Ihr Konto
account-hello = Hallo { $name }
account-unread = { $count ->
    [0] Keine ungelesenen Nachrichten
    [one] ungelesene Nachricht
   *[other] ungelesene Nachrichten
}
account-settings = Ihre Angaben
account-signed-in-as = Angemeldet als { $email }
account-language = Sprache der Seiten

## E-Mail-Vorlagen
templates-admin-intro = Jede Vorlage gibt es je Sprache; eine Sprache ohne eigene Vorlage verwendet die englische.
templates-store-intro = Ihre Kunden erhalten die E-Mails der Plattform, außer Sie schreiben Ihre eigene Fassung.
templates-empty = Keine Vorlagen. Legen Sie unten eine an.
templates-store-empty = Die Plattform bietet keine Vorlagen an, die Shops ändern dürfen.
templates-all = Alle Vorlagen
templates-new = Neue Vorlage
templates-platform-only = nur Plattform
templates-may-override = änderbar
templates-yours = Ihre Fassung
templates-platforms = Fassung der Plattform
templates-revert = Zurück zur Fassung der Plattform
templates-save-yours = Ihre Fassung speichern
templates-variables = Verfügbare Variablen: { $variables }
field-body-html = HTML-Text
field-body-text = Nur-Text
field-variables = Variablen (durch Leerzeichen getrennt)
field-required-variables = Pflicht-Variablen
field-active = Aktiv
field-platform-only = Nur Plattform (Shops können sie nicht ändern)
preview-title = Vorschau
preview-frame = E-Mail-Vorschau

## E-Mail-Einstellungen und Protokoll
settings-configured = Eingerichtet.
settings-not-configured = Noch nicht eingerichtet.
settings-verified = Geprüft.
settings-not-verified = Nicht geprüft.
settings-last-problem = Letztes Problem: { $problem }
settings-heading = Wie die E-Mails Ihres Shops versendet werden
settings-from-email = Absenderadresse
settings-from-name = Absendername
settings-reply-to = Antwortadresse
settings-provider = Anbieter
settings-smtp-host = SMTP-Server
settings-smtp-port = SMTP-Port
settings-smtp-user = SMTP-Benutzer
settings-smtp-password = SMTP-Passwort
settings-implicit-tls = Implizites TLS (Port 465)
settings-track-opens = Öffnungen erfassen
settings-track-clicks = Klicks erfassen
settings-api-key = API-Schlüssel für { $provider }
settings-mailgun-domain = Mailgun-Domain
settings-mailgun-region = Mailgun-Region
settings-ses-key-id = SES-Zugriffsschlüssel-ID
settings-ses-secret = SES-Geheimschlüssel
settings-ses-region = SES-Region
settings-send-test = Test-E-Mail senden
provider-smtp = SMTP
provider-sendgrid = SendGrid
provider-mailgun = Mailgun
provider-ses = Amazon SES
region-us = Vereinigte Staaten
region-eu = Europäische Union
email-logs-empty = Keine E-Mails gefunden.
email-status-pending = wartend
email-status-sent = gesendet
email-status-failed = fehlgeschlagen
email-status-bounced = unzustellbar
email-status-delivered = zugestellt
email-status-opened = geöffnet
email-status-clicked = geklickt

## Benachrichtigungen
notifications-empty = Keine Benachrichtigungen. Parley meldet hier, wenn E-Mails scheitern oder der Versand eines Shops gestört ist.
priority-low = niedrig
priority-normal = normal
priority-high = hoch
priority-critical = kritisch
alert-system_alert = System
alert-store_issue = Shop-Problem
alert-import_failure = Importfehler
alert-escalation = Eskalation
alert-late_replies = Späte Antworten

## Für die Skripte
js-offline = Verbindung unterbrochen. Neuer Versuch in { $seconds } s; neue Nachrichten erscheinen, sobald sie wieder steht.
js-party-admin = Plattform
js-party-store = Shop
js-party-customer = Kunde
js-system-closed = { $name } hat die Unterhaltung geschlossen
js-system-reopened = { $name } hat die Unterhaltung wieder geöffnet
js-system-preview-closed = Unterhaltung geschlossen
js-system-preview-reopened = Unterhaltung wieder geöffnet
js-system-escalated = { $name } hat die Plattform um Hilfe gebeten
js-system-resolved = { $name } hat die Eskalation abgeschlossen
js-system-assigned = { $name } hat die Unterhaltung zugewiesen
js-system-unassigned = { $name } hat die Zuweisung aufgehoben
js-system-preview-escalated = Die Plattform wurde um Hilfe gebeten
js-system-preview-resolved = Eskalation abgeschlossen
js-system-preview-assigned = Unterhaltung zugewiesen
js-system-preview-unassigned = Zuweisung aufgehoben
js-escalated = Plattform beteiligt
js-waiting = Wartet auf Sie
js-internal-note = Interne Notiz
js-seen = Gesehen
js-closed = geschlossen
js-unread = { $count } ungelesen
js-badge-label = Nachrichten, { $count } ungelesen
js-message-deleted = Nachricht gelöscht
js-not-sent = Die Verbindung ist abgebrochen; die Nachricht wurde nicht gesendet.
js-confirm-delete = Diese Nachricht löschen?
js-choose-recipient = Wählen Sie einen Empfänger aus der Liste.
js-not-verified = Nicht geprüft: { $problem }
js-preview-subject = Betreff: { $subject } ({ $layer }, { $language })
js-layer-store = Ihre Fassung
js-layer-platform = Fassung der Plattform
js-error-status = Die Anfrage ist fehlgeschlagen ({ $status }). Versuchen Sie es erneut.
js-error-rate_limited = Zu viele Anfragen. Warten Sie einen Moment und versuchen Sie es dann erneut.
js-error-conversation_closed = Diese Unterhaltung ist geschlossen.
js-error-payload_too_large = Die Datei ist zu groß.
js-error-unsupported_media_type = Diese Art von Datei ist nicht erlaubt.
js-error-csrf_failed = Die Seite ist veraltet. Laden Sie sie neu und versuchen Sie es erneut.
js-error-unauthorized = Sie sind abgemeldet. Melden Sie sich erneut an.
js-error-forbidden = Ihr Konto darf das nicht.
js-error-not_found = Das gibt es nicht mehr.
js-error-internal_error = Bei uns ist etwas schiefgelaufen. Versuchen Sie es gleich noch einmal.
