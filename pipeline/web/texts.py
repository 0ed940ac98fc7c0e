"""The subscription service's messages by code, in Swedish: the message ids of the catalogues.

The service picks a message by what happened ("expired", "invalid_email", "confirm_title"), so the
codes stay here; the words are gettext message ids (Swedish, the source language) and
:func:`texts` returns them translated through :mod:`pipeline.locale` into the reader's language.
Templates write the same message ids with ``_()``. English and any other language live in
``pipeline/locale/<lang>/LC_MESSAGES/goal17.po``, never here.

Written as Swedish copy, not translated: du, short sentences, "e-post" and "mejl", "nyhetsbrev",
"avsluta prenumerationen", Swedish quotes (”…”) and dashes (–). ``{site}``, ``{days}`` and
similar fields are filled in with ``format``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from pipeline.locale import N_, translations

MESSAGES: dict[str, str] = {
    "subscribe_title": N_("Prenumerera på nyhetsbrevet"),
    "subscribe_intro": N_(
        "Få nyheterna om kommuners och regioners arbete med mål 17 direkt i din e-post. Du bekräftar prenumerationen med en länk som vi mejlar till dig."
    ),
    "email": N_("Din e-postadress"),
    "language": N_("Nyhetsbrevets språk"),
    "lang_sv": N_("Svenska"),
    "lang_en": N_("Engelska"),
    "targets": N_("Delmål du vill följa"),
    "targets_hint": N_(
        "Väljer du inget får du alla nyheter. Vill du bara följa vissa delmål? Öppna en grupp och kryssa i dem."
    ),
    "targets_chosen": N_("{n} valda"),
    "honeypot": N_("Lämna det här fältet tomt"),
    "subscribe_button": N_("Prenumerera"),
    "privacy": N_("Så hanterar vi dina personuppgifter"),
    "consent_statement": N_(
        "När du prenumererar skickar vi nyhetsbrevet ”{site}” till din e-post. Du kan avsluta prenumerationen när du vill."
    ),
    "check_title": N_("Titta i din inkorg"),
    "check_body": N_(
        "Om adressen stämmer får du strax ett mejl från oss. Klicka på länken i mejlet för att bekräfta prenumerationen. Länken gäller i {days} dagar. Hittar du inget mejl? Titta i skräpposten."
    ),
    "confirm_title": N_("Bekräfta din prenumeration"),
    "confirm_body": N_("Klicka på knappen så börjar vi skicka nyhetsbrevet ”{site}” till {email}."),
    "confirm_button": N_("Bekräfta prenumerationen"),
    "confirmed_title": N_("Tack! Nu prenumererar du"),
    "confirmed_body": N_(
        "Nyhetsbrevet ”{site}” kommer till {email}. I varje nyhetsbrev finns länkar för att ändra dina val eller avsluta prenumerationen."
    ),
    "unsubscribe_title": N_("Avsluta prenumerationen"),
    "unsubscribe_body": N_("Klicka på knappen så slutar vi skicka nyhetsbrevet ”{site}” till {email}."),
    "unsubscribe_button": N_("Avsluta prenumerationen"),
    "unsubscribed_title": N_("Du prenumererar inte längre"),
    "unsubscribed_body": N_("Vi skickar inga fler nyhetsbrev till {email}."),
    "not_subscribed_title": N_("Ingen prenumeration"),
    "not_subscribed_body": N_(
        "Länken hör inte till någon prenumeration, så du får inga nyhetsbrev från oss."
    ),
    "preferences_title": N_("Dina val för nyhetsbrevet"),
    "preferences_body": N_("Prenumeration för {email}."),
    "status_pending": N_(
        "Väntar på bekräftelse. Du får inga nyhetsbrev förrän du har klickat på länken i bekräftelsemejlet."
    ),
    "status_active": N_("Aktiv. Du får nyhetsbrevet."),
    "status_unsubscribed": N_("Avslutad. Du får inga nyhetsbrev."),
    "save_button": N_("Spara"),
    "saved_title": N_("Dina val är sparade"),
    "saved_body": N_("Du får nyhetsbrevet på {language} med nyheter om {targets}."),
    "all_targets": N_("alla delmål"),
    "some_targets": N_("delmål {targets}"),
    "manage_link": N_("Ändra dina val"),
    "data_title": N_("Dina uppgifter"),
    "data_body": N_(
        "Ladda ner allt vi har sparat om dig, också när och hur du gav ditt samtycke (en JSON-fil)."
    ),
    "data_link": N_("Ladda ner mina uppgifter"),
    "erase_title": N_("Radera mina uppgifter"),
    "erase_body": N_(
        "Vi raderar din adress, dina val och all historik. Kvar blir bara en kontrollsumma av adressen, så att den inte läggs till igen om vi importerar en adresslista. Du kan alltid prenumerera igen."
    ),
    "erase_check": N_("Ja, radera allt om mig"),
    "erase_button": N_("Radera mina uppgifter"),
    "erase_needs_check": N_("Kryssa i rutan om du vill radera dina uppgifter."),
    "erased_title": N_("Dina uppgifter är raderade"),
    "erased_body": N_("Vi har raderat din adress och allt som hörde till den."),
    "invalid_title": N_("Länken fungerar inte"),
    "invalid_body": N_(
        "Länken är ogiltig eller ofullständig. Ibland bryts långa länkar i mejlet – kopiera i så fall hela länken och klistra in den i webbläsaren."
    ),
    "expired_title": N_("Länken har gått ut"),
    "expired_body": N_("Bekräftelselänkar gäller i {days} dagar. Anmäl dig igen så mejlar vi en ny länk."),
    "used_title": N_("Länken är redan använd"),
    "used_body": N_(
        "Den här bekräftelselänken har redan använts. Har du klickat på den tidigare är prenumerationen redan bekräftad."
    ),
    "bad_request_title": N_("Vi kunde inte läsa det du skickade"),
    "limited_title": N_("För många försök just nu"),
    "limited_body": N_("Vänta en stund och försök sedan igen."),
    "not_found_title": N_("Sidan finns inte"),
    "not_found_body": N_("Det finns ingen sida på den här adressen."),
    "invalid_email": N_("Skriv en giltig e-postadress, till exempel namn@kommun.se."),
    "invalid_targets": N_("Välj bland delmålen 17.1–17.19."),
    "error_prefix": N_("Fel:"),
    "back_to_site": N_("Till webbplatsen"),
    "next_title": N_("Vad vill du göra nu?"),
    "next_subscribe": N_("Prenumerera på nyhetsbrevet"),
    "next_subscribe_again": N_("Anmäl dig igen"),
    "next_resubscribe": N_("Ångrar du dig? Prenumerera igen"),
    "next_mail_unsubscribe": N_("Mejla oss så avslutar vi prenumerationen åt dig"),
    "next_mail_help": N_("Mejla oss så hjälper vi dig"),
    "next_site": N_("Gå till nyheterna om mål 17"),
    "next_try_again": N_("Tillbaka till formuläret"),
    "mail_subject_unsubscribe": N_("Avsluta min prenumeration"),
    "mail_subject_help": N_("Hjälp med nyhetsbrevet"),
    "mail_confirm_subject": N_("Bekräfta din prenumeration på ”{site}”"),
    "mail_confirm_intro": N_(
        "Hej! Du (eller någon som angett din adress) har anmält den här adressen till nyhetsbrevet ”{site}”."
    ),
    "mail_confirm_action": N_(
        "Klicka på länken för att bekräfta prenumerationen. Länken gäller i {days} dagar."
    ),
    "mail_confirm_ignore": N_(
        "Har du inte anmält dig? Då kan du bortse från mejlet. Du får inga fler mejl från oss."
    ),
    "mail_known_subject": N_("Du prenumererar redan på ”{site}”"),
    "mail_known_intro": N_(
        "Hej! Du (eller någon som angett din adress) försökte nyss anmäla den här adressen till nyhetsbrevet ”{site}”. Du prenumererar redan, så ingenting har ändrats."
    ),
    "mail_known_action": N_(
        "Vill du byta språk, välja andra delmål eller avsluta prenumerationen? Det gör du här:"
    ),
    "mail_known_ignore": N_("Var det inte du? Då behöver du inte göra något."),
    "mail_sender": N_("Vänliga hälsningar\n{organisation}"),
}


# What an answer page offers next: (where, message id). "subscribe" is the sign-up form, "site" the
# site's front page, "mail:<subject>" a mail to [site] contact_email with that subject (both
# translated by the template). Keyed by the page's message code and, for link errors, the kind of
# link ("confirm", "unsubscribe", "preferences"): someone whose unsubscribe link is broken wants
# out, not to sign up again.
NEXT_STEPS: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("invalid", "confirm"): [("subscribe", MESSAGES["next_subscribe_again"])],
    ("invalid", "unsubscribe"): [
        ("mail:" + MESSAGES["mail_subject_unsubscribe"], MESSAGES["next_mail_unsubscribe"])
    ],
    ("invalid", "preferences"): [("mail:" + MESSAGES["mail_subject_help"], MESSAGES["next_mail_help"])],
    ("expired", ""): [("subscribe", MESSAGES["next_subscribe_again"])],
    ("used", ""): [("site", MESSAGES["next_site"])],
    ("not_subscribed", ""): [("subscribe", MESSAGES["next_subscribe"]), ("site", MESSAGES["next_site"])],
    ("unsubscribed", ""): [("subscribe", MESSAGES["next_resubscribe"]), ("site", MESSAGES["next_site"])],
    ("erased", ""): [("subscribe", MESSAGES["next_resubscribe"]), ("site", MESSAGES["next_site"])],
    ("not_found", ""): [("subscribe", MESSAGES["next_subscribe"]), ("site", MESSAGES["next_site"])],
    ("check", ""): [("site", MESSAGES["next_site"])],
    ("", ""): [("subscribe", MESSAGES["next_try_again"]), ("site", MESSAGES["next_site"])],
}


@cache
def texts(lang: str) -> Mapping[str, str]:
    """Every message of the service in ``lang`` (Swedish where a catalogue lacks one), by code."""
    gettext = translations(lang).gettext
    return {key: gettext(message) for key, message in MESSAGES.items()}


def next_steps(key: str = "", link: str = "") -> list[tuple[str, str]]:
    """Where an answer page sends the reader next (see :data:`NEXT_STEPS`); never nothing."""
    return NEXT_STEPS.get((key, link)) or NEXT_STEPS.get((key, "")) or NEXT_STEPS[("", "")]
