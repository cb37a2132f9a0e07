"""The HTML page: a whole council, self-contained, with every piece of untrusted text inert."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from PIL import Image

from bench.markdown_render import hostile_markdown
from bot.council.models import (
    AudienceQuestion,
    Member,
    MemberRole,
    Reply,
    ReplyKind,
    ReplyStatus,
    Round,
    Session,
    SessionRecord,
    SessionStatus,
    Stance,
)
from bot.render.html import CONTENT_SECURITY_POLICY, render_html, render_markdown_html

T0 = datetime(2025, 3, 14, 18, 30, tzinfo=UTC)
HOSTILE = (
    "I agree, mostly. <script>alert(1)</script>\n\n"
    "See [x](javascript:alert(1)) and [the study](https://evil.example/study).\n\n"
    '<img src="https://evil.example/pixel.png" onerror="alert(2)"> <a href="https://evil.example">'
    "click</a>"
)
SYNTHESIS = {
    "coverage": "all 3 members answered in every round",
    "synthesis": {
        "consensus": ["Car-free cores work best with **good transit** in place first."],
        "disagreements": ["DeepSeek wants a full ban; Gemini prefers congestion pricing."],
        "open_questions": ["How to handle deliveries and disabled access?"],
        "cautions": ["Bans without alternatives hurt <b>low-income</b> commuters."],
        "verdict": "Phase cars out of city centres, transit first.",
        "ranking": [],
        "author": "Claude",
        "is_structured": True,
    },
    "ranking": [],
}
CLAUDE_TEXT = "Welcome. Round two: what about **deliveries**?"
DEEPSEEK_TEXT = """Yes — ban them, **gradually**. Three steps:

1. Close the *historic core* first.
2. Add `bus lanes` on radial roads.
3. Price the rest.

```python
def phase(year):
    return year >= 2030 and "car-free"
```

| City | Result |
|------|--------|
| Oslo | fewer deaths |
| Ghent | more cycling |
"""
GEMINI_TEXT = """Not a ban: **congestion pricing** works too.

- London cut traffic ~30%
- Stockholm kept it after a vote
  - and support *grew*

> People adapt faster than we expect."""


def _reply(reply_id: int, round_number: int, persona: str, text: str, **fields: object) -> Reply:
    values: dict[str, object] = {
        "id": reply_id,
        "session_id": 42,
        "round_number": round_number,
        "persona": persona,
        "text": text,
        "created_at": T0 + timedelta(seconds=30 * reply_id),
        "input_tokens": 400,
        "output_tokens": 150,
        "cost_usd": 0.0021,
        "latency_s": 3.0 + reply_id / 10,
    }
    values.update(fields)
    return Reply.model_validate(values)


def council_record(**session_fields: object) -> SessionRecord:
    """A chaired council of three rounds: markdown, a hostile reply, a question, a failure, a
    change of mind, votes and a synthesis."""
    session = Session(
        id=42,
        topic="Should cities ban cars from their centres? <b>really</b>",
        format="chaired",
        rounds=3,
        chair="Claude",
        guild_id=1,
        status=SessionStatus.FINISHED,
        started_at=T0,
        ended_at=T0 + timedelta(minutes=4, seconds=12),
        synthesis_json=json.dumps(SYNTHESIS),
    ).model_copy(update=session_fields)
    members = tuple(
        Member(
            session_id=42,
            position=i,
            persona=name,
            model_key=name.lower(),
            model=model,
            provider=provider,
            role=MemberRole.CHAIR if name == "Claude" else MemberRole.MEMBER,
            color=color,
            avatar_url="https://cdn.example/avatar.png",
        )
        for i, (name, model, provider, color) in enumerate(
            [
                ("Claude", "claude-sonnet-4-5", "anthropic", "#D97757"),
                ("DeepSeek", "deepseek-chat", "deepseek", "#4D6BFE"),
                ("Gemini", "gemini-2.5-pro", "gemini", "#1A73E8"),
                ("Llama", "llama-3.3-70b", "groq", "#7C3AED"),
            ]
        )
    )
    replies = (
        _reply(
            1,
            1,
            "Claude",
            "Should cities ban cars? Each of you: yes or no, and why.",
            kind=ReplyKind.CHAIR,
        ),
        _reply(2, 1, "DeepSeek", DEEPSEEK_TEXT),
        _reply(3, 1, "Gemini", HOSTILE),
        _reply(4, 1, "Llama", "Only with *excellent* transit. Otherwise no."),
        _reply(5, 2, "Claude", CLAUDE_TEXT, kind=ReplyKind.CHAIR),
        _reply(6, 2, "DeepSeek", "Night-time delivery windows solve most of it."),
        _reply(7, 2, "Gemini", GEMINI_TEXT),
        _reply(
            8,
            2,
            "Llama",
            "",
            status=ReplyStatus.FAILED,
            error_kind="timeout",
            error_message="timed out after 90 s " + "waiting " * 80,
            output_tokens=0,
        ),
        _reply(9, 3, "DeepSeek", "Final answer: ban, in phases."),
        _reply(10, 3, "Gemini", "Final answer: price first, ban later."),
        _reply(11, 3, "Llama", "Final answer: transit first."),
        _reply(12, 3, "Claude", json.dumps(SYNTHESIS["synthesis"]), kind=ReplyKind.SYNTHESIS),
    )
    rounds = tuple(
        Round(session_id=42, number=n, started_at=T0 + timedelta(minutes=n)) for n in (1, 2, 3)
    )
    questions = (
        AudienceQuestion(
            id=1,
            session_id=42,
            user_id=5,
            display_name="bob <i>the builder</i>",
            text="What about **deliveries** & emergency vehicles?",
            asked_at=T0 + timedelta(minutes=1),
            answered_in_round=2,
        ),
        AudienceQuestion(
            id=2,
            session_id=42,
            user_id=6,
            display_name="carol",
            text="And bikes?",
            asked_at=T0 + timedelta(minutes=4),
        ),
    )
    stances = (
        Stance(session_id=42, round_number=1, persona="DeepSeek", label="ban", confidence=0.7),
        Stance(session_id=42, round_number=1, persona="Gemini", label="pricing", claim="Tolls"),
        Stance(
            session_id=42,
            round_number=2,
            persona="DeepSeek",
            label="phased ban",
            previous_label="ban",
            is_changed=True,
            reason="Gemini's Stockholm example",
            confidence=0.8,
        ),
    )
    votes = {2: (4, 1), 3: (1, 3), 4: (2, 0), 6: (3, 0), 7: (2, 2), 9: (5, 0), 10: (1, 1)}
    return SessionRecord(
        session=session,
        members=members,
        rounds=rounds,
        replies=replies,
        questions=questions,
        votes=votes,
        stances=stances,
    )


class PageParser(HTMLParser):
    """The parsed page: start tags with their attributes, text, and the open-tag stack."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self.stack: list[str] = []
        self.mismatches: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.mismatches.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "style":
            self.styles.append(data)
        else:
            self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)

    def attrs(self, name: str) -> list[str]:
        return [
            value or "" for _, attrs in self.tags for key, value in attrs.items() if key == name
        ]

    def find(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        return [
            attrs
            for found, attrs in self.tags
            if found == tag and all(attrs.get(k.replace("_", "-")) == v for k, v in wanted.items())
        ]


@pytest.fixture(scope="module")
def page_html() -> str:
    return render_html(council_record())


@pytest.fixture(scope="module")
def page(page_html: str) -> PageParser:
    return PageParser(page_html)


def _section(html: str, element_id: str) -> str:
    """The HTML of the section with this id (sections do not nest)."""
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


# --------------------------------------------------------------------------- safety


def test_a_script_tag_and_a_javascript_link_in_a_reply_stay_inert_text(page_html, page):
    assert "<script>alert(1)</script>" in page.all_text
    assert "[x](javascript:alert(1))" in page.all_text
    assert '<img src="https://evil.example/pixel.png" onerror="alert(2)">' in page.all_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page_html
    assert not [tag for tag, _ in page.tags if tag in {"script", "iframe", "object", "embed"}]
    assert not [
        (tag, key) for tag, attrs in page.tags for key in attrs if key.lower().startswith("on")
    ]
    values = [value or "" for _, attrs in page.tags for value in attrs.values()]
    assert not [v for v in values if "javascript:" in v.lower()]


def test_the_page_links_to_nothing_and_loads_nothing_from_anywhere(page_html, page):
    sources, links = page.attrs("src"), page.attrs("href")
    assert sources, "the chart is an image"
    assert all(src.startswith("data:image/png;base64,") for src in sources), sources
    assert links, "the contents link to the rounds"
    assert all(re.fullmatch(r"#[\w-]+", href) for href in links), links
    for url in (*sources, *links):
        assert not url.lower().startswith(("http:", "https:", "//"))
    assert not [tag for tag, _ in page.tags if tag in {"link", "base", "form", "a"} - {"a"}]
    assert not [attrs for attrs in page.find("a") if not (attrs.get("href") or "").startswith("#")]
    style = "".join(page.styles)
    assert "url(" not in style
    assert "@import" not in style
    # A masked link reads as its label and address, as in the thread; it is not a link.
    assert "the study (https://evil.example/study)" in page.all_text
    assert "cdn.example" not in page_html  # remote avatars are never referenced


def test_a_strict_content_security_policy_comes_first_in_the_head(page_html, page):
    [policy] = page.find("meta", http_equiv="Content-Security-Policy")
    assert policy["content"] == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "img-src data:" in CONTENT_SECURITY_POLICY
    assert "style-src 'unsafe-inline'" in CONTENT_SECURITY_POLICY
    assert "script-src" not in CONTENT_SECURITY_POLICY
    head = page_html[: page_html.index("<title>")]
    assert page_html.index('<meta charset="utf-8">') < head.index("Content-Security-Policy")


def test_the_topic_names_and_questions_are_escaped_everywhere(page_html, page):
    assert "Should cities ban cars from their centres? <b>really</b>" in page.all_text
    assert "<b>" not in page_html.replace("&lt;b&gt;", "")
    assert "bob <i>the builder</i>" in page.all_text
    assert "<i>" not in page_html


def test_the_page_is_well_formed(page):
    assert page.mismatches == []
    assert page.stack == []


@pytest.mark.parametrize(
    ("language", "tag"),
    [
        ("ru", '<html lang="ru" dir="ltr">'),
        ("pt-BR", '<html lang="pt-BR" dir="ltr">'),
        ("ar", '<html lang="ar" dir="rtl">'),
        ("he", '<html lang="he" dir="rtl">'),
        ("fa", '<html lang="fa" dir="rtl">'),
        ("ur", '<html lang="ur" dir="rtl">'),
        ("", '<html lang="und" dir="auto">'),
    ],
)
def test_the_page_lang_and_dir_follow_the_councils_language(language, tag):
    record = council_record()
    session = record.session.model_copy(update={"language": language})

    html = render_html(record.model_copy(update={"session": session}))

    assert tag in html


def test_a_colour_that_is_not_a_plain_hex_colour_falls_back_to_the_default():
    record = council_record()
    hostile = record.members[1].model_copy(
        update={"color": "red}body{background:url(https://colour.example/x)}"}
    )
    record = record.model_copy(update={"members": (record.members[0], hostile)})

    html = render_html(record)

    assert "colour.example" not in html
    assert ".m-1{--c:#5865f2;--ink:#ffffff}" in html


def test_an_avatar_that_is_already_a_data_image_is_inlined_and_others_become_initials():
    tiny = Image.new("RGB", (2, 2), (200, 30, 30))
    buffer = io.BytesIO()
    tiny.save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    record = council_record()
    inlined = record.members[1].model_copy(update={"avatar_url": data_url})
    svg = record.members[2].model_copy(
        update={"avatar_url": "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="}
    )
    record = record.model_copy(
        update={"members": (record.members[0], inlined, svg, record.members[3])}
    )

    html = render_html(record)
    page = PageParser(html)

    avatars = [attrs for attrs in page.find("img") if attrs.get("class") == "avatar"]
    assert avatars
    assert {a["src"] for a in avatars} == {data_url}
    assert "svg" not in "".join(page.attrs("src"))
    initials = re.findall(r'<span class="avatar" aria-hidden="true">(\w+)</span>', html)
    assert {"C", "G", "L"} <= set(initials)


# --------------------------------------------------------------------------- the thread


def test_every_persona_appears_with_its_colour_model_and_role(page_html, page):
    for name, color in (
        ("Claude", "#d97757"),
        ("DeepSeek", "#4d6bfe"),
        ("Gemini", "#1a73e8"),
        ("Llama", "#7c3aed"),
    ):
        assert re.search(rf"\.m-\d\{{--c:{color};--ink:#(?:ffffff|111318)\}}", page_html), name
        assert f'<span class="name">{name}</span>' in page_html
    assert "deepseek-chat · deepseek" in page.all_text
    masthead = page_html[page_html.index('<header class="masthead">') :]
    assert '<span class="name">Claude</span> <span class="badge">chair</span>' in masthead
    assert '<span class="avatar" aria-hidden="true">DS</span>' in page_html


def test_rounds_have_headers_in_order_and_a_contents_line(page_html, page):
    titles = [page_html.index(f">Round {n}</span></h2>") for n in (1, 2, 3)]
    assert titles == sorted(titles)
    assert page.attrs("href") == ["#round-1", "#round-2", "#round-3", "#summary"]


def test_each_answer_shows_its_own_vote_counts_and_chair_turns_show_none(page):
    record = council_record()
    answers = [r for r in record.replies if r.kind is ReplyKind.ANSWER and r.status == "ok"]
    shown = {
        int(attrs["id"].removeprefix("reply-")): attrs
        for attrs in (a for _, a in page.tags if (a.get("id") or "").startswith("reply-"))
    }
    counts = [(a["data-up"], a["data-down"]) for a in page.find("span", **{"class": "votes"})]
    assert counts == [tuple(map(str, record.votes.get(r.id, (0, 0)))) for r in answers]
    assert set(shown) == {r.id for r in record.replies if r.kind is not ReplyKind.SYNTHESIS}
    assert "👍 4" in page.all_text
    assert "👎 3" in page.all_text


def test_chair_turns_say_so_and_the_synthesis_reply_is_not_a_turn(page_html):
    chair_turn = page_html[page_html.index('id="reply-1"') :]
    assert chair_turn.index("🎙️ The chair asks") < chair_turn.index("</article>")
    assert 'id="reply-12"' not in page_html


def test_the_audience_question_is_shown_in_the_round_that_answered_it(page_html):
    round_two = _section(page_html, "round-2")
    assert "A member of the audience, <strong>bob &lt;i&gt;the builder&lt;/i&gt;</strong>" in (
        round_two
    )
    assert "What about <strong>deliveries</strong> &amp; emergency vehicles?" in round_two
    assert "deliveries</strong> &amp;" not in _section(page_html, "round-1")
    assert "And bikes?" in _section(page_html, "unanswered")


def test_a_failed_reply_is_shown_briefly_without_votes(page_html):
    failed = page_html[page_html.index('id="reply-8"') :]
    failed = failed[: failed.index("</article>")]
    assert 'class="reply m-3 failed"' in page_html
    assert "Llama did not answer: timed out after 90 s waiting" in failed
    assert failed.count("waiting") < 60
    assert "…" in failed
    assert "votes" not in failed


def test_a_change_of_position_is_marked_where_it_happened_and_in_the_summary(page_html):
    round_two = _section(page_html, "round-2")
    assert '<span class="badge">↻ Changed position</span> ban → <strong>phased ban</strong>' in (
        round_two
    )
    assert "(80% sure): Gemini&#x27;s Stockholm example" in round_two
    assert "Stance:</span> <strong>ban</strong> (70% sure)" in _section(page_html, "round-1")
    summary = _section(page_html, "summary")
    assert "DeepSeek moved from ban to phased ban: Gemini&#x27;s Stockholm example" in summary


def test_reply_markdown_is_rendered_as_the_thread_shows_it(page_html):
    deepseek = page_html[page_html.index('id="reply-2"') :]
    deepseek = deepseek[: deepseek.index("</article>")]
    assert "<strong>gradually</strong>" in deepseek
    assert "<li>Close the <em>historic core</em> first.</li>" in deepseek
    assert "<code>bus lanes</code>" in deepseek
    assert '<pre><code>def phase(year):\n    return year &gt;= 2030 and "car-free"' in (
        deepseek.replace("&quot;", '"')
    )
    assert "<th>City</th><th>Result</th>" in deepseek
    gemini = page_html[page_html.index('id="reply-7"') :]
    assert "<ul><li>London cut traffic ~30%</li><li>Stockholm kept it after a vote" in gemini
    assert "<ul><li>and support <em>grew</em></li></ul></li></ul>" in gemini
    assert "<blockquote><p>People adapt faster than we expect.</p></blockquote>" in gemini


# --------------------------------------------------------------------------- the summary


def test_the_summary_names_the_winner_and_the_verdict(page_html):
    summary = _section(page_html, "summary")
    # DeepSeek: 4-1 + 3-0 + 5-0 = +11; Gemini 1-3 + 2-2 + 1-1 = -2; Llama 2-0 = +2.
    assert "🏆 <strong>DeepSeek</strong> wins the audience's vote." in summary
    assert "Phase cars out of city centres, transit first." in summary


def test_the_summary_has_a_row_of_stats_for_each_member(page):
    rows = {attrs["data-persona"]: attrs for attrs in page.find("tr") if "data-persona" in attrs}
    assert list(rows) == ["Claude", "DeepSeek", "Gemini", "Llama"]
    cells = [(a.get("data-up"), a.get("data-down")) for a in page.find("td") if "data-up" in a]
    downs = [a["data-down"] for a in page.find("td") if "data-down" in a]
    assert [up for up, _ in cells] == ["12", "4", "2"]
    assert downs == ["1", "6", "0"]


def test_the_summary_shows_the_synthesis_coverage_and_totals(page_html):
    summary = _section(page_html, "summary")
    for title in ("Consensus", "Disagreements", "Open questions", "Cautions"):
        assert f"<h3>{title}</h3>" in summary
    assert "with <strong>good transit</strong> in place first" in summary
    assert "hurt &lt;b&gt;low-income&lt;/b&gt; commuters" in summary
    assert "Synthesis written by Claude." in summary
    assert "Coverage: all 3 members answered in every round." in summary
    assert "<dt>Duration</dt><dd>4m 12s</dd>" in summary
    # 12 replies (the synthesis too) at $0.0021: 11 of 550 tokens, and the failure's 400.
    assert "<dt>Tokens</dt><dd>6,450</dd>" in summary
    assert "<dt>Cost</dt><dd>~$0.0252</dd>" in summary


def _reviewed(votes: dict[int, tuple[int, int]] | None = None) -> str:
    """The council's page with a peer ranking saved: Llama > DeepSeek > Gemini by points per
    ballot. By the council's own votes the audience ranks DeepSeek (+11) > Llama (+2) > Gemini
    (-2)."""
    ranking = [
        {"persona": "Llama", "points": 4.0, "ballots": 2},
        {"persona": "DeepSeek", "points": 2.0, "ballots": 2},
        {"persona": "Gemini", "points": 0.0, "ballots": 2},
    ]
    record = council_record(synthesis_json=json.dumps({**SYNTHESIS, "ranking": ranking}))
    if votes is not None:
        record = record.model_copy(update={"votes": votes})
    return _section(render_html(record), "summary")


def test_the_peer_ranking_is_shown_beside_the_audience_with_kendall_tau_b():
    summary = _reviewed()

    assert "<dt>Models</dt><dd>Llama &gt; DeepSeek &gt; Gemini</dd>" in summary
    assert "<dt>Audience</dt><dd>DeepSeek &gt; Llama &gt; Gemini</dd>" in summary
    # One pair of three reversed: (2 - 1) / 3.
    assert "<dt>Agreement (Kendall τ-b)</dt><dd>+0.33</dd>" in summary


def test_the_peer_comparison_says_when_there_are_too_few_votes():
    summary = _reviewed(votes={2: (1, 0), 4: (0, 1)})

    assert "<dt>Audience</dt><dd>DeepSeek &gt; Gemini &gt; Llama</dd>" in summary
    assert (
        "<dt>Agreement</dt><dd>too few votes to compare with the council&#x27;s ranking "
        "(2 of the 3 needed)</dd>"
    ) in summary
    assert "τ" not in summary
    assert "n/a" not in summary


def test_the_vote_chart_is_an_inlined_png_with_a_bar_pair_per_competing_member(page):
    [chart] = [
        a
        for a in page.find("img")
        if (a.get("src") or "").startswith("data:image/png") and a.get("class") != "avatar"
    ]
    png = base64.b64decode((chart["src"] or "").removeprefix("data:image/png;base64,"))
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size) == ("PNG", (800, 120 + 60 * 3))
    assert "DeepSeek 12 up, 1 down" in (chart["alt"] or "")


def test_a_council_with_no_votes_synthesis_or_end_still_makes_a_page():
    record = council_record(status=SessionStatus.RUNNING, ended_at=None, synthesis_json=None)
    record = record.model_copy(update={"votes": {}, "questions": (), "stances": ()})

    html = render_html(record)
    page = PageParser(html)

    assert page.mismatches == []
    assert "🏆 No audience votes were cast." in html
    assert "<dt>Duration</dt>" not in html
    assert "Consensus" not in html
    assert "running" in page.all_text


def test_a_blind_council_reveals_who_was_behind_each_alias():
    record = council_record(is_blind=True)
    members = tuple(
        m.model_copy(update={"alias": f"Member {chr(65 + i)}"})
        for i, m in enumerate(record.members)
    )
    html = render_html(record.model_copy(update={"members": members}))
    assert "appeared as Member B" in html
    assert "🎭 Revealed: Member A was <strong>Claude</strong>" in html


# --------------------------------------------------------------------------- Markdown


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "**bold** and *it* and _it_ and ~~gone~~",
            ("<p><strong>bold</strong> and <em>it</em> and <em>it</em> and <s>gone</s></p>"),
        ),
        ("snake_case_name stays", "<p>snake_case_name stays</p>"),
        ("2 * 3 * 4", "<p>2 * 3 * 4</p>"),
        ("`<b>` is code", "<p><code>&lt;b&gt;</code> is code</p>"),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
        ("## Plan ##", "<h4>Plan</h4>"),
        ("### In C#", "<h5>In C#</h5>"),
        ("3. three\n4. four", '<ol start="3"><li>three</li><li>four</li></ol>'),
        ("```\n<script>x</script>\n```", "<pre><code>&lt;script&gt;x&lt;/script&gt;</code></pre>"),
        ("```js\nunclosed <b>", "<pre><code>unclosed &lt;b&gt;</code></pre>"),
        ("[a](javascript:alert(1))", "<p>[a](javascript:alert(1))</p>"),
        ("[a](https://x.example/p)", "<p>a (https://x.example/p)</p>"),
        ("-# small print", '<p class="subtext">small print</p>'),
        ("a\u202eb\u200bc", "<p>abc</p>"),
        ("\"quotes\" & 'apostrophes'", "<p>&quot;quotes&quot; &amp; &#x27;apostrophes&#x27;</p>"),
    ],
)
def test_markdown_renders_a_safe_subset(source, expected):
    assert render_markdown_html(source) == expected


def test_markdown_on_hostile_input_is_well_formed():
    # How quickly it renders is the bench's "hostile markdown render" figure.
    html = render_markdown_html(hostile_markdown())
    page = PageParser(f"<div>{html}</div>")
    assert page.mismatches == []
    assert page.stack == []


def test_invisible_and_bidi_control_characters_are_dropped_from_names_and_topic():
    record = council_record(topic="Cars\u202e?sraC")
    member = record.members[1].model_copy(update={"persona": "Deep\u200bSeek"})
    html = render_html(record.model_copy(update={"members": (record.members[0], member)}))
    assert "\u202e" not in html
    assert "\u200b" not in html
    assert "<h1>Cars?sraC</h1>" in html
