"""Multilingual word lists and phrase patterns that the boilerplate cleaner scores lines with."""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    """Return the whitespace-separated words of a list written as prose."""
    return frozenset(text.split())


# Small lists on purpose: density over the union only has to separate prose from labels.
STOP_WORDS: frozenset[str] = _words(
    """
    le la les un une des du de d l à au aux et ou en dans sur pour par avec sans que qui
    ne pas est sont a ont été il elle ils nous vous ce cette ces son sa ses leur se qu
    the a an of to in on at for with by from and or but is are was were be been it its this all
    that these those he she they we you his her their as not have has had will would up out
    der die das den dem des ein eine einer eines und oder aber ist sind war wird nicht mit
    von zu im in auf für aus bei nach über sich es er sie wir auch als wie dass noch alle
    el los las una unos del al y o pero es son fue con por para sin que se su sus lo como
    más ya este esta
    il lo gli i uno di da nel nella per con che non è sono era della dei delle alla anche
    come più si suo sua questo questa
    os as um uma do da dos das no na em ao e ou mas não é são foi com por para que se seu
    sua como mais
    i w z na do się nie jest są był była to że od po za jak ale o dla przez czy tak już
    """
)

# Lowercase joining words allowed between the capitalised parts of a personal name.
NAME_PARTICLES: frozenset[str] = _words(
    "de du des da das do dos van von der den di del della la le y bin al ter ten zu"
)

# Words that introduce a byline, before the author's name.
BYLINE_LEAD = (
    r"(?:par|by|von|di|por|door|przez|autor|autore|auteur|author|autora|written by|"
    r"écrit par|texte|text|redacción|redazione|texto|reportage)"
)

# Vocabulary of a line describing a picture; a short unpunctuated line using it is a caption.
CAPTION_WORDS = re.compile(
    r"\b(?:logo|photo|photos|image|images|illustration|picture|pictured|screenshot|"
    r"capture d['’]écran|foto|fotos|bild|bilder|imagen|immagine|imagem|zdjęcie|"
    r"grafik|infographic|infographie)\b",
    re.IGNORECASE,
)

# Words of an author biography; after a closing byline they mark the bio block.
BIO_WORDS = re.compile(
    r"\b(?:journaliste?|journalists?|reporter|rédacteur|rédactrice|editor|writer|"
    r"correspondent|correspondant|redakteur(?:in)?|autor(?:in)?|periodista|redactor|"
    r"giornalista|redattore|jornalista|dziennikar\w*|redaktor\w*|passionné|passionate|"
    r"spécialisé|specialised|specialized|covers|écrit sur|writes about|schreibt über)\b",
    re.IGNORECASE,
)

# Sentence-final punctuation across scripts: Latin, CJK full and half width, Devanagari and
# Bengali danda, Arabic and Urdu, Ethiopic, Armenian, Myanmar, Khmer, Tibetan, Georgian.
STATEMENT_ENDS = ".!…。！．｡।॥۔።։။៕។།჻"
QUESTION_ENDS = "?？؟፧"
# Closing quotes and brackets that may follow the sentence end.
CLOSERS = "\"'»”’)]}」』）》〉›"

# Heading of a reader-comment section: "Comments", "5 thoughts on “…”", "3 Kommentare zu …".
COMMENT_HEADER = re.compile(
    r"(?:(?:\d+|one|un|une|ein|eine|uno|una|um|uma|jeden|jedna)\s+)?"
    r"(?:reader comments?|comments?|responses?|replies|thoughts?|discussion|leserkommentare|"
    r"kommentare?|antworten|gedanken|diskussion|commentaires?|réponses?|réflexions?|réactions?|"
    r"comentarios?|respuestas?|pensamientos|discusión|commenti|commento|risposte|pensieri|"
    r"discussione|komentarz[eyi]?|komentarzy|odpowiedzi|myśli|dyskusja|comentários?|respostas?|"
    r"pensamentos|discussão)"
    r"(?:\s*\(\d+\))?(?:\s+(?:on|to|zu|auf|à|sur|en|sobre|a|su|do|na|em|para|de|für)\s.*)?"
)
# The line that opens one comment: its author and "says:" in one of the page languages.
COMMENT_BY = re.compile(
    r"^.{1,60}?\s(?:says|sagt|schreibt|schrieb|meint|dit|a dit|a écrit|écrit|dice|dijo|"
    r"escribió|escribe|scrive|ha scritto|disse|diz|escreveu|napisał|napisała|pisze)"
    r"(?:\s?:|(?=.*\d)|$)(?:\s.{0,40})?$",
    re.IGNORECASE,
)
# Buttons under a comment, matched against the normalised line.
COMMENT_ACTION = re.compile(
    r"(?:reply|répondre|antworten|responder|rispondi|odpowiedz|like|likes|liken(?:liken)?|"
    r"gefällt mir|j['’]aime|me gusta|mi piace|lubię to|curtir|report|melden|signaler|"
    r"denunciar|segnala|zgłoś|log in to reply|zum antworten anmelden|"
    r"\d+\s+(?:likes?|votes?|points?))"
)

# A short line holding a date or a time is publication metadata, not prose.
DATE = re.compile(r"\b(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}[:h]\d{2}|(?:19|20)\d{2})\b")

# Whole-line markers, matched against the normalised line (casefolded, edge punctuation off).
MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern))
    for reason, pattern in (
        (
            "ad",
            r"(?:publicité|pub|advertisement|advertising|ads?|sponsored(?: content)?|"
            r"sponsorisé|contenu sponsorisé|anzeigen?|werbung|gesponsert|publicidad|"
            r"pubblicità|publicidade|reklama|annonce|patrocinado|partner content|"
            r"paid content|scroll to continue|continue reading below|"
            r"article continues below|la suite après cette publicité|weiter nach der anzeige)",
        ),
        (
            "share",
            r"(?:share|partager|partagez|teilen|compartir|condividi|compartilhar|compartilhe|"
            r"udostępnij|tweet|imprimer|print|drucken|e-?mail|facebook|twitter|x|linkedin|"
            r"whatsapp|pinterest|reddit|telegram|flipboard)"
            r"(?:\s*(?:this|cet article|this article|on|sur|auf|en|su|no|na|via|to|,|/|\||·)"
            r"\s*[\w.-]*){0,6}",
        ),
        (
            "newsletter",
            r"(?:newsletters?|subscribe|s['’]abonner|abonnez-vous|abonnieren|suscríbete|"
            r"iscriviti|assine|subskrybuj|zapisz się)",
        ),
        (
            "navigation",
            r"(?:accueil|home|startseite|inicio|início|menu|menü|search|rechercher|suche|"
            r"suchen|buscar|cerca|szukaj|login|log in|sign in|se connecter|anmelden|"
            r"registrieren|iniciar sesión|accedi|entrar|zaloguj się|tags?|mots-clés|"
            r"schlagworte|etiquetas|categories|catégories|kategorien|télécharger|download|"
            r"herunterladen|descargar|scarica|baixar|pobierz|nach oben|previous|next|"
            r"précédent|suivant|zurück|weiter|anterior|"
            r"siguiente|precedente|successivo|próximo|poprzedni|następny|mehr|more|plus|"
            r"más|altro|mais|więcej|inhalt|contents?|sommaire|índice|indice|spis treści|"
            r"editorial guidelines|directives éditoriales|about us|à propos|über uns|"
            r"contact|kontakt|contacto|contatti|contato|mise à jour|updated|aktualisiert|"
            r"actualizado|aggiornato|atualizado|zaktualizowano|most popular|"
            r"les plus lus|meistgelesen|lo más leído|più letti|mais lidas|najpopularniejsze)",
        ),
        ("legal", r"(?:impressum|datenschutz|mentions légales|privacy|cookies?|imprint)"),
        (
            "comment_form",
            r"(?:\d+\s+)?(?:comments?|commentaires?|kommentare?|comentarios?|commenti|"
            r"comentários|komentarz[ey]?|reply|répondre|antworten|responder|rispondi|"
            r"odpowiedz|post comment|publier le commentaire)",
        ),
    )
)

# Phrases found anywhere in a line; specific enough that prose rarely contains them.
PHRASES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.IGNORECASE))
    for reason, pattern in (
        (
            "affiliate",
            r"(?:gagner|percevoir|toucher|recevoir) une commission|may earn (?:a |an )?"
            r"(?:small )?(?:commission|compensation|affiliate)|affiliate links?|"
            r"liens? (?:d['’]affiliation|affiliés|sponsorisés)|erhalten wir (?:eine )?provision|"
            r"provisions-?links?|affiliate-links?|(?:recibir|ganar) una comisión|"
            r"enlaces? de afiliados?|link di affiliazione|ricevere una commissione|"
            r"links? (?:de )?afiliados?|linki afiliacyjne|otrzymać prowizję",
        ),
        (
            "translation_notice",
            r"traduit automatiquement|traduction automatique|machine[- ]translat|"
            r"automatically translated|automatisch übersetzt|maschinell übersetzt|"
            r"traducido automáticamente|traducción automática|tradotto automaticamente|"
            r"traduzione automatica|traduzido automaticamente|tradução automática|"
            r"tłumaczenie maszynowe|przetłumaczon\w* automatycznie",
        ),
        (
            "comment_form",
            r"(?:laisser|laissez) un commentaire|leave a (?:comment|reply)|"
            r"adresse (?:e-?mail|de messagerie) ne sera pas publiée|"
            r"email address will not be published|required fields are marked|"
            r"champs obligatoires sont|e-mail-adresse wird nicht veröffentlicht|"
            r"erforderliche felder sind|kommentar (?:schreiben|verfassen|hinterlassen)|"
            r"deja (?:un|tu) comentario|correo electrónico no será publicada|"
            r"lascia un commento|email non sarà pubblicato|deixe (?:um|seu) comentário|"
            r"e-mail não será publicado|(?:zostaw|dodaj) komentarz|"
            r"adres e-mail nie zostanie opublikowany|before (?:posting|submitting) (?:a |your )?"
            r"comment|avant de (?:poster|publier) (?:un|votre) commentaire|"
            r"przed dodaniem komentarza|vor dem absenden (?:des|ihres) kommentars|"
            r"cancel reply|antworten abbrechen|annuler la réponse|hinterlassen sie eine "
            r"antwort|akismet|comment data is processed|kommentardaten|comments are closed|"
            r"kommentare sind (?:geschlossen|deaktiviert)|commentaires sont fermés|"
            r"comentarios están cerrados|commenti sono chiusi|komentarze (?:są )?wyłączone|"
            r"comentários (?:estão )?(?:encerrados|fechados)",
        ),
        (
            "credit",
            r"^(?:photos?|fotos?|images?|bild(?:er)?|imagen|immagine|imagem|zdjęcie|fot\.|"
            r"crédits?(?: photo)?|photo credits?|credits?|source|quelle|fuente|fonte|źródło|"
            r"illustration|vidéo|video)\s*:|©|\(c\)\s*\d{4}|getty ?images|shutterstock|"
            r"istock(?:photo)?|picture[- ]alliance|imago images|adobe ?stock|unsplash|"
            r"\bap photo\b|wikimedia commons|^\(?foto:",
        ),
        (
            "related",
            r"^(?:lire aussi|à lire aussi|a lire aussi|voir aussi|read more|read also|see also|"
            r"related(?: articles| stories)?|more from|more on this|mehr zum thema|"
            r"lesen sie auch|auch interessant|weiterlesen|leer más|lea también|lea más|lea:|"
            r"mire:|te puede interesar|leggi anche|potrebbe interessarti|leia também|"
            r"leia mais|saiba mais|czytaj (?:też|także|więcej)|zobacz (?:też|także)|"
            r"en savoir plus|nouveautés de|more stories|previous post|next post|"
            r"vorheriger beitrag|nächster beitrag|article précédent|article suivant|"
            r"filed under|posted in|publié dans|abgelegt unter|veröffentlicht in|"
            r"als nächstes)(?!\w)"
            r"|you may also like|vous aimerez aussi|könnte sie auch interessieren|"
            r"ti potrebbe interessare|você também pode gostar|może cię zainteresować|"
            r"was this article helpful|war der artikel nützlich|cet article vous a-t-il|"
            r"click to (?:print|share|email)|opens in new window|permalink",
        ),
        (
            "newsletter",
            r"sign up (?:for|to)|subscribe to (?:our|the)|^subscribe to|"
            r"inscrivez-vous à (?:notre|la) newsletter|abonnez-vous à|newsletter abonnieren|"
            r"jetzt abonnieren|"
            r"suscríbete a|iscriviti alla|assine (?:a|nossa) newsletter|"
            r"zapisz się do newslettera|pour rester informé|enter your e-?mail|"
            r"e-mail-adresse (?:eingeben|ein)|votre adresse e-?mail ci-dessous|"
            r"follow us|folge uns|suivez-nous|síguenos|seguici|siga-nos|obserwuj nas",
        ),
        (
            "legal",
            r"all rights reserved|tous droits réservés|alle rechte vorbehalten|"
            r"todos los derechos reservados|tutti i diritti riservati|"
            r"todos os direitos reservados|wszelkie prawa zastrzeżone|"
            r"we use cookies|nous utilisons des cookies|wir verwenden cookies|"
            r"utilizamos cookies|utilizziamo (?:i )?cookie|używamy (?:plików )?cookies|"
            r"usamos cookies|cookie (?:policy|settings)|cookie-einstellungen|"
            r"politique de confidentialité|privacy policy|datenschutzerklärung|"
            r"terms of (?:use|service)|conditions générales|aviso legal|"
            r"política de privacidad|informativa sulla privacy|polityka prywatności|"
            r"política de privacidade|copyrighted|written permission|creative commons|"
            r"^powered by|powered by (?:wordpress|blogger|drupal|joomla)|fourni par blogger",
        ),
        (
            "navigation",
            r"^(?:skip to|aller au contenu|zum inhalt|pasar al contenido|saltar al contenido|"
            r"ir al contenido|vai al contenuto|ir para o conteúdo|przejdź do treści|back to|"
            r"retour (?:à|au|en haut)|zurück zu|volver a|voltar para|torna a|powrót do)(?!\w)",
        ),
        (
            "share",
            r"(?:share|post) (?:to|on|via) (?:facebook|twitter|x|linkedin|whatsapp|pinterest|"
            r"e-?mail|reddit)|partager sur (?:facebook|twitter|x|linkedin|whatsapp)|"
            r"(?:teilen|compartir|condividi|compartilhar|udostępnij) (?:auf|en|su|no|na) "
            r"(?:facebook|twitter|x|linkedin|whatsapp)",
        ),
        (
            "paywall",
            r"pour lire la suite|pour accéder en illimité|réservé aux abonnés|"
            r"subscribers only|to continue reading|nur für abonnenten|"
            r"exclusivo para suscriptores|riservato agli abbonati|exclusivo para assinantes",
        ),
    )
)
