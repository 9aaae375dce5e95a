"""Dutch and English interface text: the message catalogue, the reader's language (?lang=, then a cookie,
then Accept-Language) and the Jinja globals `t`, `lang_url`, `label_of` and `number`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, has_request_context, request, url_for

from kg.listing import label_in
from web.messages import MESSAGES

LANGUAGES = ("nl", "en")
DEFAULT = "en"
COOKIE = "mk_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def message(key: str, lang: str, default: str | None = None, **params: Any) -> str:
    """The text of `key` in `lang` (English when that language lacks it), with `params` filled in;
    `default` (or the key itself) when the catalogue has no such key."""
    texts = MESSAGES.get(key)
    if texts is None:
        return default if default is not None else key
    text = texts.get(lang) or texts["en"]
    if not params:
        return text
    return text.format(**{k: format_number(v, 0, lang) if isinstance(v, int) and not isinstance(v, bool) else v
                          for k, v in params.items()})


def current_language() -> str:
    """The language of this request, chosen when first asked for (SPARQL and data answers never ask)."""
    if not has_request_context():
        return DEFAULT
    if "lang" not in g:
        _choose_language()
    return str(g.lang)


def t(key: str, default: str | None = None, **params: Any) -> str:
    return message(key, current_language(), default, **params)


def label_of(labels: Mapping[str, str], fallback: str = "") -> str:
    """An entity's label in the reader's language (or the closest there is)."""
    return label_in(labels, current_language(), fallback)


def language_first(texts: Mapping[str, str]) -> list[tuple[str, str]]:
    """(language, text) pairs, the reader's language first, then the others in order."""
    lang = current_language()
    return sorted(texts.items(), key=lambda item: (item[0] != lang, item[0]))


def number(value: float | int | None, digits: int = 0) -> str:
    return format_number(value, digits, current_language())


def format_number(value: float | int | None, digits: int, lang: str) -> str:
    """A number with thousands separators as `lang` writes them (1,234.5 or 1.234,5)."""
    if value is None:
        return "–"
    text = f"{float(value):,.{digits}f}"
    if lang == "nl":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def lang_url(code: str) -> str:
    """This page in language `code` (a POST result page goes back to its form)."""
    if request.method != "GET" or request.endpoint is None:
        return f"?lang={code}"
    args = {k: request.args.getlist(k) for k in request.args if k != "lang"}
    return url_for(request.endpoint, **(request.view_args or {}), **args, lang=code)


def _choose_language() -> None:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.lang, g.lang_chosen = asked, True
        return
    cookie = request.cookies.get(COOKIE)
    g.lang = cookie if cookie in LANGUAGES else request.accept_languages.best_match(LANGUAGES, default=DEFAULT)


def _remember_language(response: Response) -> Response:
    if g.get("lang_chosen"):
        response.set_cookie(COOKIE, g.lang, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    if response.mimetype == "text/html":  # pages differ by language; RDF and JSON answers do not
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def register_i18n(app: Flask) -> None:
    app.after_request(_remember_language)
    app.jinja_env.globals.update(t=t, lang_url=lang_url, label_of=label_of, number=number, language_first=language_first)
    app.context_processor(lambda: {"lang": current_language()})
