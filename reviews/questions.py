"""The questionnaire both sides answer, as data (seeded by migration 0002).

The seven Relational Coordination items (Gittell: frequent, timely, accurate and
problem-solving communication; shared goals, shared knowledge, mutual respect), the
three authenticity items of the pulse (integrity, transparency, reliability), each
1–5, and one open question. "ours" asks our owner about the relationship, "theirs"
asks the stakeholder about us; the gap compares answers to the same item.
"""

QUESTIONS = [
    # key, group, label en, label nl, ours en, ours nl, theirs en, theirs nl
    (
        "frequency",
        "communication",
        "frequency",
        "frequentie",
        "How often do we communicate with them?",
        "Hoe vaak communiceren wij met hen?",
        "How often do we communicate with you?",
        "Hoe vaak communiceren wij met u?",
    ),
    (
        "timeliness",
        "communication",
        "timeliness",
        "tijdigheid",
        "How timely is our communication with them?",
        "Hoe tijdig is onze communicatie met hen?",
        "How timely is our communication with you?",
        "Hoe tijdig is onze communicatie met u?",
    ),
    (
        "accuracy",
        "communication",
        "accuracy",
        "nauwkeurigheid",
        "How accurate is what we tell them?",
        "Hoe nauwkeurig is wat wij hen vertellen?",
        "How accurate is what we tell you?",
        "Hoe nauwkeurig is wat wij u vertellen?",
    ),
    (
        "problem_solving",
        "communication",
        "problem-solving",
        "probleemoplossing",
        "When problems arise, do we solve them together rather than blame?",
        "Lossen we problemen samen op in plaats van de schuld te leggen?",
        "When problems arise, do we solve them with you rather than blame?",
        "Lossen wij problemen samen met u op in plaats van de schuld te leggen?",
    ),
    (
        "shared_goals",
        "relationship",
        "shared goals",
        "gedeelde doelen",
        "How much do we share their goals for this work?",
        "In hoeverre delen wij hun doelen voor dit werk?",
        "How much do we share your goals for this work?",
        "In hoeverre delen wij uw doelen voor dit werk?",
    ),
    (
        "shared_knowledge",
        "relationship",
        "shared knowledge",
        "gedeelde kennis",
        "How well do we know what they do and need?",
        "Hoe goed weten wij wat zij doen en nodig hebben?",
        "How well do we know what you do and need?",
        "Hoe goed weten wij wat u doet en nodig heeft?",
    ),
    (
        "mutual_respect",
        "relationship",
        "mutual respect",
        "wederzijds respect",
        "How much do we respect their work and role?",
        "Hoeveel respect hebben wij voor hun werk en rol?",
        "How much do we respect your work and role?",
        "Hoeveel respect hebben wij voor uw werk en rol?",
    ),
    (
        "integrity",
        "authenticity",
        "integrity",
        "integriteit",
        "How honest and fair are we with them?",
        "Hoe eerlijk en integer zijn wij tegenover hen?",
        "How honest and fair are we with you?",
        "Hoe eerlijk en integer zijn wij tegenover u?",
    ),
    (
        "transparency",
        "authenticity",
        "transparency",
        "transparantie",
        "How open are we with them about what we know and intend?",
        "Hoe open zijn wij tegenover hen over wat wij weten en van plan zijn?",
        "How open are we with you about what we know and intend?",
        "Hoe open zijn wij tegenover u over wat wij weten en van plan zijn?",
    ),
    (
        "reliability",
        "authenticity",
        "reliability",
        "betrouwbaarheid",
        "How well do we keep our promises to them?",
        "Hoe goed komen wij onze beloften aan hen na?",
        "How well do we keep our promises to you?",
        "Hoe goed komen wij onze beloften aan u na?",
    ),
]

OPEN_QUESTION = (
    "more_of",
    "open",
    "what to do more of",
    "waar meer van",
    "What should we do more of with them?",
    "Waar zouden wij met hen meer van moeten doen?",
    "What should we do more of?",
    "Waar zouden wij meer van moeten doen?",
)


def questionnaire_seed(review_question_model: type) -> None:
    """Write the questionnaire's rows (a migration's historical model or the real one):
    by migration 0002, and after every `migrate` and `flush` (post_migrate), so a
    flushed database still has its questions, as it has its permissions."""
    rows = [(*q, "scale") for q in QUESTIONS] + [(*OPEN_QUESTION, "open")]
    for position, row in enumerate(rows, start=1):
        key, group, label_en, label_nl, ours_en, ours_nl, theirs_en, theirs_nl, kind = row
        review_question_model.objects.update_or_create(
            key=key,
            defaults={
                "position": position,
                "group": group,
                "kind": kind,
                "label_en": label_en,
                "label_nl": label_nl,
                "ours_en": ours_en,
                "ours_nl": ours_nl,
                "theirs_en": theirs_en,
                "theirs_nl": theirs_nl,
            },
        )
