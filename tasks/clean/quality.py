"""Quality gates: pages that extract to text but are not articles (link lists, walls, soft 404s)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

# A page whose main text is mostly the text of its own links is an index, not an article.
LINK_SHARE_LIMIT = 0.6
# Walls and error pages are short: past this many words the cues below are ignored,
# since a real article may well quote "page not found" or mention cookies.
SHORT_PAGE_WORDS = 150

_WS = re.compile(r"\s+")

# Phrases of login, subscription and cookie-consent walls, in the corpus's languages.
_WALL_PHRASES = re.compile(
    r"\b(?:"
    r"sign in|log ?in|create (?:a |an )?(?:free )?account|forgot (?:your )?password"
    r"|already a (?:subscriber|member)|subscribe to (?:continue|read)|to continue reading"
    r"|accept (?:all )?cookies|cookie (?:settings|preferences|policy)"
    r"|(?:use|verwenden|utilisons|usamos|utilizziamo) (?:des )?cookies"
    r"|privacy policy|personal data|politique de confidentialité|données personnelles"
    r"|datenschutzerklärung|personenbezogene daten|privatsphäre|vie privée"
    r"|manage (?:preferences|options|cookies)|reject all|accept all|your privacy"
    r"|se connecter|connectez-vous|identifiez-vous|créer un compte|mot de passe oublié"
    r"|déjà abonné|abonnez-vous|accepter (?:les cookies|et fermer|tout)|tout refuser"
    r"|anmelden|einloggen|registrieren|passwort vergessen|bereits abonnent"
    r"|cookies akzeptieren|alle akzeptieren|alle ablehnen|einwilligung"
    r"|iniciar sesión|regístrate|aceptar (?:todas|cookies)|accedi|registrati"
    r"|accetta (?:tutti|i cookie)|zaloguj się|zarejestruj się|akceptuję"
    r")\b",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(
    r"\b(?:404|page not found|not found|page (?:does not|doesn't) exist|no longer available"
    r"|page introuvable|n'existe (?:pas|plus)|erreur 404|seite nicht gefunden"
    r"|nicht gefunden|existiert nicht|página no encontrada|no se encontró"
    r"|pagina non trovata|non trovata|nie znaleziono|strona nie istnieje)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class PageCues:
    """What the gates need from the parsed page, gathered before extraction prunes the tree."""

    link_texts: frozenset[str]
    title: str
    has_password_field: bool


def page_cues(tree: HtmlElement) -> PageCues:
    """Return the anchor texts, <title> and password-field presence of a parsed page."""
    links = frozenset(text for a in tree.iter("a") if (text := _squash(a.text_content())) and len(text) > 1)
    title = _squash(tree.findtext(".//title") or "")
    has_password = any((node.get("type") or "").lower() == "password" for node in tree.iter("input"))
    return PageCues(links, title, has_password)


def _squash(text: str) -> str:
    return _WS.sub(" ", text).strip()


def link_share(text: str, link_texts: frozenset[str]) -> float:
    """Return the share of the text's characters on lines that are just the text of a link."""
    lines = [_squash(line) for line in text.splitlines()]
    total = sum(len(line) for line in lines)
    if not total:
        return 0.0
    return sum(len(line) for line in lines if line in link_texts) / total


def low_quality(text: str, cues: PageCues) -> str | None:
    """Return why a page's main text is not an article, or None when it passes every gate."""
    share = link_share(text, cues.link_texts)
    if share >= LINK_SHARE_LIMIT:
        return f"link list: {share:.0%} of the main text is link text"
    if len(text.split()) > SHORT_PAGE_WORDS:
        return None
    head = text[:300]
    if _NOT_FOUND.search(cues.title) or _NOT_FOUND.search(head):
        return f"not-found page served as a success: {(cues.title or head)[:80]!r}"
    walls = {match.lower() for match in _WALL_PHRASES.findall(text)}
    if len(walls) >= 2 or (walls and cues.has_password_field):
        return f"login or consent wall: {', '.join(sorted(walls))}"
    return None
