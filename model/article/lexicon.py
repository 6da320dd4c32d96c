"""Closed word lists behind the rule-based article analysis, and phrase normalisation.

Everything language-specific lives here so the rules in the other modules stay readable and
the lists can be extended in one place. All entries are lower-case.
"""

from __future__ import annotations

import functools
import re


def words(text: str) -> frozenset[str]:
    """A word set from white-space separated text (keeps long lists readable)."""
    return frozenset(text.split())


# Verbs that introduce speech: "X said ...", "..., X added.", "X emphasized that ...".
# Includes the verbs of written and posted speech ("tweeted", "posted", "wrote") and the
# colourful ones of news prose ("quipped", "countered", "shot back").
SPEECH_VERBS = words(
    """
    said says say stated states added adds noted notes stressed stresses emphasized
    emphasised emphasizes emphasises underlined underlines underscored underscores told tells
    declared declares announced announces warned warns insisted insists argued argues claimed
    claims explained explains recalled recalls remarked remarks asserted asserts affirmed
    affirms reiterated reiterates confirmed confirms believes wrote writes replied replies
    responded responds answered answers commented comments observed acknowledged acknowledges
    admitted admits suggested suggests continued concluded cautioned cautions maintained
    maintains tweeted tweets posted posts quipped quips countered counters testified testifies
    retorted retorts scoffed scoffs joked jokes conceded concedes vowed vows predicted predicts
    pleaded pleads boasted boasts fumed fumes lamented laments mused muses asked asks shouted
    yelled whispered recounted recounts texted emailed messaged blogged pledged pledges
    promised promises conceded objected objects protested protests complained complains
    agreed agrees disagreed disagrees interjected snapped explained sighed laughed smiled
    """
)
# Verbs whose subject takes a stance toward the object directly ("X welcomed the decision"):
# the sentence is the subject's, exactly like reported speech.
EVALUATIVE_VERBS = words(
    """
    welcomed welcomes praised praises hailed hails lauded lauds thanked thanks criticized
    criticised criticizes criticises condemned condemns denounced denounces slammed slams
    rejected rejects accused accuses blamed blames called calls described describes termed
    terms urged urges demanded demands regretted regrets expressed expresses voiced voices
    considers considered assessed assesses dismissed dismisses disputed disputes defended
    defends backed backs supported opposed opposes attacked questioned applauded applauds
    celebrated endorsed endorses
    """
)
# Multi-word speech verbs, matched as written.
SPEECH_PHRASES = (
    "pointed out",
    "points out",
    "made clear",
    "makes clear",
    "went on to say",
    "shot back",
    "fired back",
    "weighed in",
    "went on",
)

ALL_VERBS = SPEECH_VERBS | EVALUATIVE_VERBS
# One regex for every cue verb; (?<![\w-]) keeps "so-called" from matching "called".
VERB_RE = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in SPEECH_PHRASES)
    + "|"
    + "|".join(sorted(ALL_VERBS, key=len, reverse=True))
    + r")(?![\w-])",
    re.IGNORECASE,
)

# Participles that carry their clause subject's stance after a comma: "X signed the pact on
# Friday, calling it a new chapter" is X calling it so.
PARTICIPLES = words("calling describing saying")
PARTICIPLE_RE = re.compile(r"(?<![\w-])(?:" + "|".join(sorted(PARTICIPLES)) + r")(?![\w-])", re.I)

# Prepositions that end a noun phrase's head ("closure of the ward" -> closure) and show
# that a phrase ending in a name is about something else ("takeover of Granlund Dairies").
PREPOSITIONS = words("of on for to with in at from by against over about between off near")

# Words that may follow a speaker phrase and open an adjunct, so the phrase has ended:
# "said housing campaigner Maud Ellery after the court upheld the ban".
ADJUNCT_OPENERS = words("after before when during as while on in at")

# Words allowed between a speaker and the verb: "Aliyev also said", "the minister has noted".
SUBJECT_VERB_FILLERS = words(
    "also further later again once then has have had repeatedly previously recently earlier "
    "separately additionally moreover furthermore subsequently already clearly firmly "
    "specifically particularly explicitly publicly simply only quickly flatly"
)

# Role words: a phrase ending in one of them names a person by role ("the president"), and
# one standing before a name is the role, not the name ("Acme attorney Paul Reed",
# "Historian Paul Reyes", "Republican Ward Pemberton"). Party names count as roles: "the
# Democrat said" refers to the person introduced as one.
TITLE_WORDS = words(
    """
    president vice-president premier minister prime chancellor secretary secretary-general
    spokesman spokeswoman spokesperson ambassador envoy governor mayor senator congressman
    congresswoman general commander chairman chairwoman chair head leader director official
    officials king queen pope deputy aide adviser advisor representative diplomat speaker chief
    co-chair co-chairs ombudsman prosecutor judge justice attorney lawyer counsel analyst
    economist historian professor researcher scientist astronomer astrophysicist
    epidemiologist physician doctor surgeon nurse executive ceo cfo founder co-founder owner
    manager superintendent principal teacher coach captain striker player goalkeeper agent host
    anchor columnist critic reporter editor publisher correspondent commentator pastor
    reverend priest rabbi imam bishop archbishop cardinal officer sergeant lieutenant colonel
    major detective inspector sheriff marshal trooper councilman councilwoman councilor
    councillor councilmember alderman commissioner assemblyman assemblywoman delegate
    legislator lawmaker candidate challenger nominee organizer organiser activist advocate
    campaigner resident neighbor neighbour homeowner farmer shopkeeper worker employee student
    retiree treasurer clerk auditor trustee administrator coordinator chairperson engineer
    designer planner negotiator mediator investigator economist pollster strategist
    businessman businesswoman billionaire entrepreneur director-general superintendent
    democrat republican partner managing quarterback admiral
    """
)
# Abbreviated titles before names: "Sen. Jane Doe", "the Rev. Mark Ellis", "Gov. X".
TITLE_ABBREVIATIONS = {
    "sen": "senator", "rep": "representative", "gov": "governor", "rev": "reverend",
    "lt": "lieutenant", "gen": "general", "col": "colonel", "capt": "captain",
    "sgt": "sergeant", "maj": "major", "adm": "admiral", "cmdr": "commander",
    "prof": "professor", "atty": "attorney", "supt": "superintendent", "det": "detective",
    "insp": "inspector", "pres": "president", "amb": "ambassador", "sec": "secretary",
}  # fmt: skip
# Name suffixes: part of the name, never its surname ("Samuel Okonkwo Jr." is Okonkwo).
NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
FEMALE_TITLES = words(
    "spokeswoman chairwoman congresswoman queen councilwoman assemblywoman businesswoman "
    "mother grandmother wife daughter sister widow actress"
)
MALE_TITLES = words(
    "spokesman chairman congressman king councilman assemblyman businessman father "
    "grandfather husband son brother widower actor"
)
# Role words that "the leader" / "the head of state" can refer to.
LEADER_TITLES = frozenset(
    {"president", "premier", "prime", "chancellor", "king", "queen", "leader"}
)
# Spokespeople speak for their organisation: "a spokesman for the ministry said" is the
# ministry speaking, "a Skyreach spokesperson said" is Skyreach.
SPOKES_TITLES = frozenset({"spokesman", "spokeswoman", "spokesperson"})
HONORIFICS = {"mr": "male", "mrs": "female", "ms": "female", "miss": "female", "dr": None}
HONORIFIC_RE = re.compile(r"(?:Mr|Mrs|Ms|Dr)\.|Miss\b|Madam\b|Sir\b")

# Heads that make a named phrase an organisation rather than a person: institutions,
# company and club name endings ("Halberd Foods", "Harwick United") and newspaper titles
# ("Morning Standard", "Meridian Review").
ORG_HEADS = words(
    """
    ministry office government council committee agency service embassy department parliament
    kremlin commission union organization organisation group administration presidency cabinet
    army alliance bank court company party authorities side mission forces nato osce un eu
    assembly senate congress pentagon military corporation association foundation coalition
    institute center centre society federation guild chamber league network bureau authority
    university college school hospital church club firm observatory police fund programme
    program initiative project trust board caucus partners holdings systems software airways
    airlines pharmaceuticals securities research power energy foods brands storage pictures
    studios industries motors labs laboratories media press times post herald courier ledger
    gazette tribune journal review chronicle telegraph observer examiner inquirer bulletin
    dispatch globe wire corp inc ltd llc fc rovers athletic united terminals builders
    standard citizen nations
    """
)
# Nouns by which an article refers back to an organisation it named before: "the company
# said", "the influential daily wrote", "the group said in a statement".
ORG_NOUNS = ORG_HEADS | words(
    "daily paper newspaper weekly broadcaster outlet tabloid magazine business maker "
    "developer carrier operator distributor publisher studio team chain retailer charity body "
    "program producer insurer lender grid regulator watchdog utility exchange consortium "
    "cooperative tribunal inspectorate secretariat"
)

# Plural nouns for people who speak as a group ("residents said", "“...,” the protesters
# said", "said local farmers"): a speaker of their own (the quote is not the author's), never
# a reference back to an organisation named before. Quantifiers before them are dropped from
# the speaker's name ("Many residents" -> "residents").
GROUP_NOUNS = words(
    """
    residents critics officials protesters demonstrators activists campaigners analysts
    economists experts lawmakers legislators opponents supporters workers farmers doctors
    nurses teachers parents students investors traders diplomats witnesses villagers locals
    fans voters scientists researchers prosecutors investigators observers commentators
    employers shopkeepers landlords tenants patients passengers commuters rebels
    environmentalists conservationists veterans survivors
    """
)
GROUP_QUANTIFIERS = words("some many several most other few")

# Lone capitalised words that are never a speaker on their own: quantifiers opening a
# sentence ("Some said"), and name parts that need the rest ("United", "National").
NOT_SPEAKERS = words(
    "some many most others other several few both all none each every any another such "
    "united national federal state royal new"
)

PRONOUNS = {"he": "male", "she": "female", "they": "plural", "it": "plural"}

# Capitalised words that are never (part of) a name.
NOT_NAMES = words(
    """
    the a an this that these those it its he she they we i you our their his her my your
    and or but so yet however meanwhile also then today yesterday tomorrow now later earlier
    on in at of for with by from to as after before during while when where if though although
    according because since despite amid under over into about against between
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    mr mrs ms dr sir madam miss there here what who which why how not no yes all both
    """
)

STOP_WORDS = words(
    """
    a an the this that these those its their his her our my your and or but nor so yet of in
    on at to for with by from as into onto about against between among through over under
    after before during while since until than then also not no is are was were be been being
    has have had do does did will would can could should may might must shall it he she they
    we i you who whom whose which what when where why how there here if because although
    though whether very more most less least only just even still already again once all any
    each every some such own same other another both either neither one two three per via
    up down out off according toward towards upon within without across amid despite
    """
)

# Demonyms and country-name variants -> one key, so "Russian peacekeepers" and "Russia's
# peacekeeping forces" share their country.
GEO = {
    "russia": "russia", "russian": "russia", "russians": "russia", "moscow": "russia",
    "azerbaijan": "azerbaijan", "azerbaijani": "azerbaijan", "azerbaijanis": "azerbaijan",
    "baku": "azerbaijan",
    "armenia": "armenia", "armenian": "armenia", "armenians": "armenia", "yerevan": "armenia",
    "turkey": "turkey", "turkish": "turkey", "türkiye": "turkey", "ankara": "turkey",
    "georgia": "georgia", "georgian": "georgia", "tbilisi": "georgia",
    "iran": "iran", "iranian": "iran", "tehran": "iran",
    "ukraine": "ukraine", "ukrainian": "ukraine", "kyiv": "ukraine",
    "belarus": "belarus", "belarusian": "belarus",
    "kazakhstan": "kazakhstan", "kazakh": "kazakhstan",
    "china": "china", "chinese": "china", "beijing": "china",
    "france": "france", "french": "france", "paris": "france",
    "germany": "germany", "german": "germany", "berlin": "germany",
    "britain": "uk", "british": "uk", "uk": "uk", "london": "uk",
    "america": "us", "american": "us", "u.s.": "us", "usa": "us", "washington": "us",
    "italy": "italy", "italian": "italy", "spain": "spain", "spanish": "spain",
    "poland": "poland", "polish": "poland", "israel": "israel", "israeli": "israel",
    "syria": "syria", "syrian": "syria", "iraq": "iraq", "iraqi": "iraq",
    "india": "india", "indian": "india", "pakistan": "pakistan", "pakistani": "pakistan",
    "japan": "japan", "japanese": "japan", "canada": "canada", "canadian": "canada",
    "egypt": "egypt", "egyptian": "egypt", "europe": "europe", "european": "europe",
}  # fmt: skip
# The adjectives among them: only these open a noun phrase ("Russian peacekeepers"); a
# country or capital name followed by a word is a name and a verb ("Armenia sent").
DEMONYMS = words(
    """
    russian russians azerbaijani azerbaijanis armenian armenians turkish georgian iranian
    ukrainian belarusian kazakh chinese french german british american italian spanish
    polish israeli syrian iraqi indian pakistani japanese canadian egyptian european
    """
)

# Heads that add nothing to what a phrase refers to ("Russian peacekeeping forces" is the
# same thing as "Russian peacekeepers"); they only decide a group when nothing else does.
GENERIC_HEADS = words(
    "force forces troops troop mission contingent operation personnel unit units soldiers "
    "servicemen service staff side authorities government leadership"
)
# Generic heads that stand for the country itself: "the Armenian side" is Armenia.
STATE_HEADS = frozenset({"side", "authorities", "government", "leadership"})
# Nouns a stance is practically never about; phrases made only of them are not targets.
NON_TARGETS = words(
    """
    time year years day days week month today moment reporters journalists press conference
    briefing question questions answer words remarks fact way part end beginning number lot
    course view opinion interview statement thing things people country countries region
    situation issue matter point case meeting talks importance need
    """
)

# Heads of noun phrases that name concrete things a reader would take a stance toward:
# forces and missions, agreements and laws, institutions, places and projects. A discovered
# noun-phrase target needs one ("Russian peacekeepers", "the visa facilitation agreement",
# "the coastal highway"); abstract heads ("activity", "goal", "position") never qualify.
CONCRETE_HEADS = words(
    """
    peacekeeper peacekeepers force forces troops troop soldiers soldier army armies military
    police mission missions contingent base bases center centre centers centres post posts
    agreement agreements deal deals treaty treaties accord accords ceasefire truce pact
    statement declaration resolution plan plans bill bills law laws budget reform reforms tax
    taxes tariff tariffs sanctions sanction embargo election elections vote referendum
    pipeline pipelines dam dams bridge bridges road roads highway highways railway railways
    port ports airport airports plant plants factory factories mine mines project projects
    program programs programme programmes scheme vaccine vaccines weapon weapons missile
    missiles drone drones group groups company companies government governments ministry
    parliament council committee union unions coalition alliance court courts regime
    administration opposition party parties rebels protesters militants fighters mercenaries
    settlers refugees migrants strike strikes stadium school schools hospital hospitals
    library libraries park parks corridor border borders checkpoint checkpoints zone zones
    talks negotiations summit conference sanctions merger acquisition contract contracts
    platform network grid license licence permit ban visa visas constitution mandate
    observers observer monitors monitor inspectors commission delegation embassy
    campaign campaigns policy policies proposal proposals decision decisions measure
    measures initiative initiatives investigation investigations probe inquiry operation
    operations offensive war wars attack attacks cut cuts rule rules regulation regulations
    ruling verdict order orders system package subsidy subsidies fund funds loan loans
    """
)

_STEM_SUFFIXES = ("ings", "ing", "ers", "er", "es", "s")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude suffix-stripping stem: peacekeepers, peacekeeping, peacekeeper -> peacekeep.

    Good enough to group mentions inside one article; deliberately not a full stemmer
    (words of four letters or fewer are left alone so "news" or "arms" keep their meaning).
    """
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.rstrip("'")
    if len(w) <= 4:
        return w
    for suffix in _STEM_SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)]
    return w


@functools.lru_cache(maxsize=65536)
def bare(word: str) -> str:
    """A token without a possessive ending, lower-cased: "Russia's" -> "russia".

    Cached: an article repeats its words, and this runs for every token several times.
    """
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return w.rstrip("'.")


# Common given names by gender, so "he"/"she" can skip a person of the other gender: news
# prose rarely states gender otherwise. A short general list (English-language news and
# frequent European names), not a census: an unknown name just leaves gender open.
FEMALE_NAMES = words(
    """
    mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty
    margaret sandra ashley kimberly emily donna michelle carol amanda dorothy melissa deborah
    stephanie rebecca sharon laura cynthia kathleen amy angela shirley anna brenda pamela emma
    nicole helen samantha katherine christine debra rachel carolyn janet catherine maria
    heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn
    judith megan andrea cheryl hannah jacqueline martha gloria teresa ann sara madison frances
    kathryn janice jean abigail alice judy sophia grace denise amber doris marilyn danielle
    beverly isabella theresa diana natalie brittany charlotte marie kayla alexis lori jane
    claire clara ana anne irene ingrid ines helena helga hanna greta freja sofia sophie lucia
    julia giulia chiara carla elena olena yulia natalia irina svetlana oksana dorota katarzyna
    agnieszka marta pilar carmen rosa isabel lucy lydia lila lena lorna loretta lorraine
    louise maya mia nadia nora naomi priya renata rosalind sandra shanice tamsin tanya vivian
    yasmin zoe beatrice camille celine chantal delia edith eleanor eliza ella esther fiona
    gail gwen harriet hazel imani irma janelle janine jenna joanna josephine june kara keisha
    kira leona lillian lorena mabel marguerite maribel marisol maureen maxine miriam monica
    odessa patience penelope priscilla queenie rita roberta sabrina selma simone sonia stella
    susanna sylvia tamara tessa ursula vera wendy yvonne alisha amara amina adaeze fatou ifeoma
    glenda hilda agnes alma amelia anya astrid britt dana glenda ida imogen liesel lotte mette
    nina paula petra sigrid solveig tove ulla
    """
)
MALE_NAMES = words(
    """
    james robert john michael david william richard joseph thomas charles christopher daniel
    matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy
    ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin
    scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry
    tyler aaron jose adam nathan henry douglas zachary peter kyle ethan walter noah jeremy
    christian keith roger terry gerald harold sean austin carl arthur lawrence dylan jesse
    jordan bryan billy joe bruce gabriel logan albert willie alan juan wayne elijah randy roy
    vincent ralph eugene russell bobby mason philip louis harry howard fred martin marcus
    victor lionel oscar omar hassan ibrahim musa abdel ahmed ali mohammed ivan igor dmitry
    sergei pavel vladimir anton lukas jonas erik nils lars henrik mats otto hans dieter
    stefan tomas tomás matej jiri jan piotr bogdan stanislav marco luca bruno mateo diego
    carlos miguel rafael ricardo javier luis ramon ignacio pablo paolo giovanni teodor mikkel
    gustav per kofi kwame femi emeka oluwaseun adrian alistair angus barry bernard blake
    boris calvin cedric clifford colin curtis dale dean derek desmond dwayne dwight edgar
    elias emil felix franklin geoff geoffrey gordon graham hamid harlan ian ike jake jamal
    jeremiah jerome julian kenji leon leonard lyle malcolm max maurice neil nigel ollie owen
    preston rafe ray reid rex rodney rory rui ruben rupert sandor shane simon stuart ted teddy
    terrence terrell tobias todd tom trevor troy wade ward warren wesley colt cole chase
    declan deshawn devon dominic duncan fergus glen grant hugh jasper kieran lorenzo magnus
    mikhail moses nikolai oswald quentin reginald rolf sven ulrich viktor wilhelm yusuf zane
    arvo sami salem gerhard helmut klaus
    """
)
