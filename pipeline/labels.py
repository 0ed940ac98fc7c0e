"""Interface words in Swedish and English, shared by pages, feeds, snippets and email."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "published": "Publicerad",
        "updated": "Uppdaterad",
        "targets": "Delmål",
        "target": "delmål",
        "target_heading": "Delmål",
        "tags": "Taggar",
        "goal": "Mål 17",
        "all_updates": "Alla nyheter",
        "read_more": "Läs mer",
        "contents": "Innehåll",
        "no_updates": "Inga nyheter om det här delmålet ännu.",
        "page": "Sida",
        "newer": "Nyare",
        "older": "Äldre",
        "feeds": "Prenumerera",
        "skip": "Hoppa till innehållet",
        "by": "Av",
        "all_targets": "Alla delmål",
    },
    "en": {
        "published": "Published",
        "updated": "Updated",
        "targets": "Targets",
        "target": "target",
        "target_heading": "Target",
        "tags": "Tags",
        "goal": "Goal 17",
        "all_updates": "All updates",
        "read_more": "Read more",
        "contents": "Contents",
        "no_updates": "No updates about this target yet.",
        "page": "Page",
        "newer": "Newer",
        "older": "Older",
        "feeds": "Subscribe",
        "skip": "Skip to content",
        "by": "By",
        "all_targets": "All targets",
    },
}


def labels(lang: str) -> dict[str, str]:
    return LABELS["en" if lang == "en" else "sv"]
