"""The `?` and `:name` placeholders as PostgreSQL's `$n`, outside quotes, comments and casts."""

from __future__ import annotations

import pytest

from bot.store.placeholders import numbered


def test_question_marks_are_numbered_in_order():
    statement = numbered("SELECT * FROM t WHERE a = ? AND b IN (?, ?)")
    assert statement.sql == "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)"
    assert statement.arguments((1, "x", None)) == [1, "x", None]


def test_a_name_used_twice_is_one_number():
    statement = numbered("SELECT * FROM t WHERE (:round IS NULL OR r = :round) AND s = :session")
    assert statement.sql == "SELECT * FROM t WHERE ($1 IS NULL OR r = $1) AND s = $2"
    assert statement.arguments({"session": 5, "round": None, "unused": 1}) == [None, 5]


def test_quotes_comments_and_casts_are_left_alone():
    sql = (
        "SELECT 'it''s ? :not', \"odd?:col\", x::bigint, (value->>0)::text -- why? :no\n"
        "/* ? :no */ FROM t WHERE a = ?"
    )
    statement = numbered(sql)
    assert statement.sql == sql.replace("a = ?", "a = $1")
    assert statement.count == 1


def test_json_paths_inside_strings_are_not_placeholders():
    statement = numbered("SELECT json_extract(value, '$[0]') FROM json_each(?)")
    assert statement.sql == "SELECT json_extract(value, '$[0]') FROM json_each($1)"


@pytest.mark.parametrize(
    "literal",
    [
        r"E'\''",
        r"E'it\'s ? :not'",
        r"e'back\\' ",
        r"E'a''b \\\' ? :not'",
        "$$ it's ? :not $$",
        "$body$ a $$ ? :not $ $body$",
        "$_1$ 'quote ? $_1$",
    ],
)
def test_escape_strings_and_dollar_quotes_are_left_alone(literal):
    sql = f"SELECT {literal}, a FROM t WHERE a = ? AND b = ?"
    statement = numbered(sql)
    assert statement.sql == f"SELECT {literal}, a FROM t WHERE a = $1 AND b = $2"
    assert statement.count == 2


def test_a_dollar_or_e_inside_a_word_opens_nothing():
    statement = numbered("SELECT a$b$c, type'x', ? FROM t WHERE name = ?")
    assert statement.sql == "SELECT a$b$c, type'x', $1 FROM t WHERE name = $2"


def test_a_statement_without_parameters_is_unchanged():
    statement = numbered("SELECT 1")
    assert (statement.sql, statement.arguments(())) == ("SELECT 1", [])


@pytest.mark.parametrize(
    ("sql", "params", "message"),
    [
        ("SELECT ? + ?", (1,), "1 parameters for 2 placeholders"),
        ("SELECT :a", {"b": 1}, "no value for :a"),
        ("SELECT :a", (1,), "positional parameters for a statement with `:name`"),
        ("SELECT ?", {"a": 1}, "named parameters for a statement with `?`"),
    ],
)
def test_parameters_that_do_not_fit_are_refused(sql, params, message):
    with pytest.raises(ValueError, match=message):
        numbered(sql).arguments(params)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT ? WHERE a = :a", "mixes"),
        ("SELECT 'open", "unclosed '"),
        ("SELECT 1 /* open", "unclosed comment"),
        ("SELECT E'it\\'s open", "unclosed '"),
        ("SELECT $body$ open $$", r"unclosed \$body\$"),
    ],
)
def test_malformed_statements_are_refused(sql, message):
    with pytest.raises(ValueError, match=message):
        numbered(sql)


def test_conversions_are_cached():
    assert numbered("SELECT ? AS cached") is numbered("SELECT ? AS cached")
