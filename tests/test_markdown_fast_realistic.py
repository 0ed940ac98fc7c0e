"""The fast Markdown path is taken for updates written the way communications officers write.

The benchmark corpus is one generator's idea of an update; these ten are written by hand in the
style of ``content/*.md`` (Swedish and English, h2/h3 headings, numbered and bullet lists, an
aligned table, a quote, links to other updates as ``other.md``, to folders, to external sites with
query strings, images with and without titles). Each must render exactly as Python-Markdown
renders it, and through the fast path: a path that declines such text saves nothing.
"""

from __future__ import annotations

import pytest

from pipeline.reading.markdown_fast import render_fast
from pipeline.reading.markdown_render import TOC_MIN_HEADINGS, render_markdown, render_with_library

REALISTIC = {
    "vanortsavtal-kigali.md": """Kommunfullmäktige i Borås har godkänt ett nytt **treårigt avtal** med staden Kigali. Avtalet bygger på det samarbete om avfallshantering som inleddes 2023 och som beskrivs i [förra årets rapport](rapport-avfall-2025.md).

## Vad avtalet omfattar

Samarbetet delas in i tre områden:

1. Insamling och sortering av hushållsavfall
2. Utbildning av tjänstepersoner inom *miljö- och hälsoskydd*
3. Gemensam uppföljning med öppna data

![Deltagare vid workshoppen i Kigali i mars](media/kigali-workshop.jpg "Workshop i Kigali")

### Budget

| Post | 2026 | 2027 | 2028 |
|:-----|-----:|-----:|-----:|
| Resor | 120 000 | 90 000 | 90 000 |
| Utbildning | 250 000 | 300 000 | 200 000 |
| Uppföljning | 40 000 | 40 000 | 60 000 |

Finansieringen kommer till största delen från ICLD:s program för kommunala partnerskap. Läs mer i [ICLD:s utlysning](https://icld.se/kommunala-partnerskap/?typ=utlysning&ar=2026).

## Kontakt

Frågor om avtalet besvaras av kommunens internationella samordnare.
""",
    "rapport-avfall-2025.md": """Den här rapporten sammanfattar det första året av samarbetet mellan Borås och Kigali.

## Sammanfattning

Under året genomfördes fyra besök, två i varje riktning. Totalt deltog 38 personer från de två kommunerna.

> Vi har lärt oss minst lika mycket som vi har lärt ut.
> Det är det som gör partnerskapet värdefullt.

Citatet kommer från en av deltagarna vid slutseminariet i november.

## Resultat

- Ett pilotområde med källsortering i Kigali har startats
- En gemensam handbok har tagits fram, se [handboken](media/handbok.pdf)
- Borås har börjat använda Kigalis modell för *kvartersmöten*

## Nästa steg

Arbetet fortsätter enligt det nya [vänortsavtalet](vanortsavtal-kigali.md).
""",
    "digital-inkludering-tartu.md": """Hur når man invånare som inte använder digitala tjänster? Det var frågan när Umeå och Tartu träffades för en gemensam workshop i september.

## Bakgrund

Båda städerna har byggt ut sina e-tjänster snabbt. Samtidigt visar enkäter att ungefär 8 % av invånarna över 75 år aldrig använder dem.

## Tre lärdomar

**Kombinera kanaler.** Digitala tjänster behöver ett analogt komplement, till exempel servicekontor med personlig hjälp.

**Mät rätt saker.** Antalet inloggningar säger lite om vem som *inte* använder tjänsten.

**Fråga användarna.** Tartu har goda erfarenheter av användarpaneler med äldre invånare.

![Workshop i Tartu](media/tartu.png)

## Läs mer

Presentationerna från workshoppen finns i [arkivet](/arkiv/2026/tartu/) och en kortare sammanfattning på engelska i [Digital inclusion in Tartu](digital-inclusion-tartu-en.md).
""",
    "digital-inclusion-tartu-en.md": """In September, Umeå and Tartu met for a joint workshop on **digital inclusion**.

## Key findings

- Digital services need an analogue complement
- Usage statistics hide those who *never* log in
- User panels with older residents work well

The Swedish version is available as [Digital inkludering i Tartu](digital-inkludering-tartu.md).
""",
    "vatten-maputo.md": """Sedan 2019 samarbetar Luleå kommun med Maputo om vattenförsörjning. I år har fokus legat på att minska läckaget i ledningsnätet.

## Läget i dag

Läckaget i Maputos ledningsnät uppskattas till omkring 40 %. Målet för partnerskapet är att halvera det till 2030.

| Indikator | Utgångsläge | Mål 2030 |
|---|:---:|:---:|
| Läckage | 40 % | 20 % |
| Hushåll med anslutning | 62 % | 80 % |

## Så går arbetet till

Luleås ingenjörer har tillsammans med kollegor i Maputo kartlagt de mest utsatta delarna av nätet. Arbetet följer den metod som beskrivs i [Svenskt Vattens vägledning](https://www.svensktvatten.se/vagledning "Svenskt Vatten").

1. Kartläggning av nätet
2. Tryckmätning i utvalda zoner
3. Åtgärdsplan och prioritering

Läs också om det tidigare [samarbetet om rening](vattenrening-och-miljoteknik.md).
""",
    "seminarium-agenda-2030.md": """Välkommen till ett digitalt seminarium om Agenda 2030 i kommunal styrning.

## Program

- 09.00 Inledning
- 09.15 *Lokala nyckeltal* – erfarenheter från tre kommuner
- 10.00 Paus
- 10.15 Panelsamtal: hur får vi med de globala målen i budgeten?
- 11.00 Avslutning

## Anmälan

Anmäl dig senast den 15 januari. Seminariet är kostnadsfritt.

Frågor? Skriv till oss via [kontaktformuläret](/kontakt/).
""",
    "enkat-resultat-2026.md": """Årets enkät om internationellt engagemang besvarades av 212 av landets 290 kommuner, en svarsfrekvens på 73 %.

## Huvudresultat

### Andel kommuner med internationella partnerskap

| År | Andel |
|---|---:|
| 2022 | 31 % |
| 2024 | 35 % |
| 2026 | 39 % |

### Vanligaste samarbetsområden

1. Miljö och klimat
2. Demokrati och styrning
3. Skola och utbildning

Resultaten jämförs med tidigare år i [förra enkäten](enkat-internationellt-engagemang.md).

## Metod

Enkäten skickades till kommunernas kanslichefer i mars. Svaren har **inte** viktats.
""",
    "nyhetsbrev-hosten.md": """Här är höstens viktigaste nyheter om kommunala partnerskap.

## Nya partnerskap

Tre nya partnerskap har startat under hösten: Växjö–Gaborone, Göteborg–Hanoi och Malmö–Kisumu.

## Ansökningsomgång

Nästa ansökningsomgång öppnar den 1 februari. Läs mer i [utlysningen](ny-ansokningsomgang-kommunala-partnerskap.md).

## På gång

- Nätverksträff i Stockholm den 12 december
- Webbinarium om *öppna data* i januari

Tack för att du läser!
""",
    "styrning-och-budget.md": """Hur kan de globala målen bli en del av kommunens ordinarie styrning? Flera kommuner har börjat koppla sina budgetmål direkt till delmålen i Agenda 2030.

## Exempel från tre kommuner

**Växjö** redovisar varje nämnds bidrag till de globala målen i årsredovisningen.

**Göteborg** använder en gemensam uppsättning nyckeltal, se [lokala data för Agenda 2030](lokala-data-for-agenda-2030.md).

**Luleå** har valt ut fem mål där kommunen har störst påverkan.

## Råd till andra kommuner

> Börja i det lilla. Välj några få mål och följ dem ordentligt i stället för att försöka täcka allt.

Rådet kommer från Luleås ekonomichef.
""",
    "utbyte-hanoi.md": """I oktober besökte en delegation från Hanoi Göteborg för att lära sig mer om **kollektivtrafik** och stadsplanering.

## Besöket i korthet

Delegationen bestod av tolv personer från stadens planeringsförvaltning. Under tre dagar besökte de bland annat trafikledningscentralen och ett nybyggt bostadsområde.

![Delegationen från Hanoi vid Järntorget](media/hanoi-delegation.jpg)

## Vad händer nu?

Ett gemensamt projekt om *elektrifierade bussar* planeras till 2027. En första rapport väntas under våren.

Läs mer om Göteborgs internationella arbete på [goteborg.se](https://goteborg.se/internationellt).
""",
}


@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_a_realistic_update_takes_the_fast_path_and_renders_as_python_markdown(name: str) -> None:
    body = REALISTIC[name]
    fast = render_fast(body)
    assert fast is not None, f"{name} declined"
    html, toc, headings = fast
    library = render_with_library(body)
    assert html == library.html
    assert headings == library.heading_count
    assert (toc if headings >= TOC_MIN_HEADINGS else "") == library.toc_html
    assert render_markdown(body) == library


def test_the_realistic_set_exercises_what_it_claims() -> None:
    rendered = "\n".join(render_with_library(body).html for body in REALISTIC.values())
    for fragment in (
        "<table>",
        "<ol>",
        "<ul>",
        "<blockquote>",
        "<img ",
        "<h3 ",
        "<strong>",
        "<em>",
        'href="',
    ):
        assert fragment in rendered
    assert sum(render_with_library(body).toc_html != "" for body in REALISTIC.values()) >= 3
