"""The ``check`` job: validate the content folder on a schedule, so a broken update is reported
(in the run history and the log) before the next build would refuse it. Writes nothing."""

from datetime import datetime
from typing import Any

from pipeline.config.site import Settings
from pipeline.reading.content import read_content


def check_job(settings: Settings, options: dict[str, Any]) -> str:
    content = read_content(options.get("content", "content"), settings, datetime.now(settings.tz))
    return f"{len(content.updates)} updates valid, {len(content.warnings)} warnings"
