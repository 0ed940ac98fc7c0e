"""Email newsletter: digest issues, subscribers, signed tokens, messages and exactly-once delivery.

Modules, in the order data flows: :mod:`issues` (which updates go into the next issue),
:mod:`render` and :mod:`plaintext` (the HTML and text parts, once per issue and language),
:mod:`archive` (the web archive), :mod:`subscribers` and :mod:`tokens` (the list and its signed
links; also the library the subscription web service builds on), :mod:`message` (MIME template +
cheap per-recipient personalisation), :mod:`transports` and :mod:`delivery` (the send log).
"""
