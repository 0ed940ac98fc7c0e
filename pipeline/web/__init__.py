"""The subscription service: double opt-in sign-up, one-click unsubscribe (RFC 8058), preferences.

:mod:`app` is the Starlette application (``create_app``); :mod:`service` the operations behind it,
all through the newsletter's :class:`~pipeline.stores.subscribers.SubscriberStore`;
:mod:`bodies` reads request bodies defensively; :mod:`ratelimit`, :mod:`language`, :mod:`texts`
and :mod:`mails` do one job each; :mod:`form_snippet` builds the partner sign-up form.
"""
