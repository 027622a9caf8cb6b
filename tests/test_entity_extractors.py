import datetime as dt
from dataclasses import dataclass, field

import pytest

from bot.nlu.entities import Entity, merge_entities
from bot.nlu.extractors import (
    BuiltinEntityExtractor,
    CRFEntityExtractor,
    EntitySynonymMapper,
    RegexEntityExtractor,
)

WEDNESDAY = dt.date(2024, 6, 12)


@dataclass
class Example:
    text: str
    intent: str
    entities: list[dict] = field(default_factory=list)


def example(text, *annotations, intent="inform"):
    """Build a training example; each annotation is (surface, entity, extra-keys)."""
    entities = []
    for surface, entity, extra in annotations:
        start = text.index(surface)
        entities.append({"start": start, "end": start + len(surface), "value": surface, "entity": entity, **extra})
    return Example(text, intent, entities)


def surfaces(text, entities):
    return [(text[e.start:e.end], e.entity, e.value) for e in entities]


# --------------------------------------------------------------------------- Entity

def test_entity_to_dict_omits_missing_role_and_group():
    entity = Entity(3, 7, "4729", "order_id", extractor="CRFEntityExtractor", confidence=0.9)
    assert entity.to_dict() == {
        "entity": "order_id", "start": 3, "end": 7, "value": "4729",
        "extractor": "CRFEntityExtractor", "confidence_entity": 0.9,
    }


def test_entity_to_dict_includes_role_and_group_when_set():
    data = Entity(0, 6, "Boston", "city", role="departure", group="1").to_dict()
    assert (data["role"], data["group"]) == ("departure", "1")


def test_merge_entities_prefers_earlier_extractor_for_same_type_only():
    crf = [Entity(10, 14, "4729", "order_id", extractor="crf")]
    regex = [Entity(10, 14, "4729", "order_id", extractor="regex"), Entity(20, 25, "gold", "plan", extractor="regex")]
    builtin = [Entity(10, 14, "4729", "digits", extractor="builtin")]
    merged = merge_entities(crf, regex, builtin)
    assert [(e.entity, e.extractor) for e in merged] == [
        ("order_id", "crf"), ("digits", "builtin"), ("plan", "regex"),
    ]


# --------------------------------------------------------------------------- Regex / lookup

PLAN_EXAMPLES = [
    example("switch me to the gold plan", ("gold", "plan", {})),
    example("my zip is 90210", ("90210", "zipcode", {})),
]
REGEXES = [("zipcode", r"\b\d{5}\b"), ("not_an_entity", r"\bhello\b")]
LOOKUPS = [("plan", ["gold", "silver", "premium plus", "c++"])]


def trained_regex_extractor():
    extractor = RegexEntityExtractor()
    extractor.train(PLAN_EXAMPLES, {}, REGEXES, LOOKUPS)
    return extractor


def test_regex_and_lookup_extract_annotated_entities():
    text = "Hello, move 10001 to Premium Plus"
    assert surfaces(text, trained_regex_extractor().extract(text)) == [
        ("10001", "zipcode", "10001"), ("Premium Plus", "plan", "Premium Plus"),
    ]


def test_lookup_matches_whole_words_only():
    extractor = trained_regex_extractor()
    assert extractor.extract("goldfish and silverware") == []
    assert [e.value for e in extractor.extract("I code in c++ daily")] == ["c++"]


def test_regex_names_without_annotations_do_not_extract():
    assert all(e.entity != "not_an_entity" for e in trained_regex_extractor().extract("hello"))


def test_malformed_regex_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="'zipcode'"):
        RegexEntityExtractor().train(PLAN_EXAMPLES, {}, [("zipcode", r"(\d{5}")], [])


def test_malformed_regex_also_fails_crf_training():
    with pytest.raises(ValueError, match="'broken'"):
        CRFEntityExtractor().train(PLAN_EXAMPLES, {}, [("broken", "[a-")], [])


def test_regex_extractor_persist_load_round_trip(tmp_path):
    text = "gold or 12345"
    original = trained_regex_extractor()
    original.persist(tmp_path)
    assert RegexEntityExtractor.load(tmp_path).extract(text) == original.extract(text)


# --------------------------------------------------------------------------- CRF

ROUTES = [("Boston", "Denver"), ("Chicago", "Miami"), ("Seattle", "Austin"), ("Dallas", "Phoenix"),
          ("Atlanta", "Houston"), ("Denver", "Chicago"), ("Miami", "Seattle"), ("Austin", "Boston")]
TEMPLATES = ["I want to fly from {a} to {b}", "book a flight from {a} to {b}", "from {a} to {b} please",
             "I need a ticket to {b} from {a}", "going to {b} leaving from {a}"]


def flight_examples():
    examples = [
        example(
            TEMPLATES[i % len(TEMPLATES)].format(a=a, b=b),
            (a, "city", {"role": "departure"}),
            (b, "city", {"role": "destination"}),
            intent="book_flight",
        )
        for i, (a, b) in enumerate(ROUTES * 2)
    ]
    examples += [
        example("my order number is 4729", ("4729", "order_id", {}), intent="order_status"),
        example("order 88123 please", ("88123", "order_id", {}), intent="order_status"),
        example("where is order 55120", ("55120", "order_id", {}), intent="order_status"),
        example("hello there", intent="greet"),
    ]
    return examples


@pytest.fixture(scope="module")
def crf():
    extractor = CRFEntityExtractor()
    extractor.train(flight_examples(), {}, [], [("city", ["Boston", "Denver"])])
    return extractor


def test_crf_extracts_roles_on_unseen_sentences(crf):
    text = "please book me a flight from Portland to Omaha"
    found = crf.extract(text)
    assert [(text[e.start:e.end], e.entity, e.role) for e in found] == [
        ("Portland", "city", "departure"), ("Omaha", "city", "destination"),
    ]
    assert all(0.5 < e.confidence <= 1.0 and e.extractor == "CRFEntityExtractor" for e in found)


def test_crf_roles_follow_context_not_the_word(crf):
    text = "I want to go to Boston from Miami"
    assert [(e.value, e.role) for e in crf.extract(text)] == [("Boston", "destination"), ("Miami", "departure")]


def test_crf_extracts_entities_without_roles(crf):
    found = crf.extract("what about order 12345")
    assert [(e.value, e.entity, e.role) for e in found] == [("12345", "order_id", None)]


def test_crf_persist_load_round_trip(crf, tmp_path):
    crf.persist(tmp_path)
    text = "from Chicago to Reno"
    assert CRFEntityExtractor.load(tmp_path).extract(text) == crf.extract(text)


def test_crf_tags_groups():
    orders = [("large", "pepperoni", "small", "veggie"), ("small", "cheese", "medium", "hawaiian"),
              ("medium", "veggie", "large", "cheese"), ("large", "hawaiian", "small", "pepperoni")]
    examples = [
        example(f"a {s1} {t1} and a {s2} {t2}",
                (s1, "size", {"group": "1"}), (t1, "topping", {"group": "1"}),
                (s2, "size", {"group": "2"}),
                (t2, "topping", {"group": "2"}))
        for s1, t1, s2, t2 in orders * 3
    ]
    extractor = CRFEntityExtractor()
    extractor.train(examples, {}, [], [])
    found = extractor.extract("a small pepperoni and a large cheese")
    assert [(e.value, e.entity, e.group) for e in found] == [
        ("small", "size", "1"), ("pepperoni", "topping", "1"), ("large", "size", "2"), ("cheese", "topping", "2"),
    ]


def test_crf_tags_a_word_annotated_under_one_intent_only_under_that_intent():
    """Like retail-demo: "don't" is a negation when unsubscribing, and plain text everywhere else."""
    examples = [
        example("i don't want to subscribe", ("don't", "negation", {}), intent="product_updates"),
        example("I do not subscribe", ("do not", "negation", {}), intent="product_updates"),
        example("subscribe to updates", intent="product_updates"),
        *(example(text, intent="return") for text in ("I don't want my shoes anymore", "i want to return these")),
        *(example(text, intent="deny") for text in ("I don't think so", "don't like that", "no, don't do that")),
        example("I don't feel very well", intent="mood_unhappy"),
    ]
    extractor = CRFEntityExtractor()
    extractor.train(examples, {}, [], [])
    text = "uh I don't want to subscribe anymore"
    assert [(e.value, e.entity) for e in extractor.extract(text, "product_updates")] == [("don't", "negation")]
    assert extractor.extract("well I don't want these shoes", "return") == []


def test_crf_without_annotations_extracts_nothing(tmp_path):
    extractor = CRFEntityExtractor()
    extractor.train([example("hello there", intent="greet")], {}, [], [])
    extractor.persist(tmp_path)
    assert extractor.extract("hello") == CRFEntityExtractor.load(tmp_path).extract("hello") == []


# --------------------------------------------------------------------------- Builtin

@pytest.fixture(scope="module")
def builtin():
    return BuiltinEntityExtractor(reference_date=WEDNESDAY)


@pytest.mark.parametrize(
    "text, surface, value, unit",
    [
        ("I paid $50 for it", "$50", 50.0, "USD"),
        ("it was fifty dollars", "fifty dollars", 50.0, "USD"),
        ("lend me 20 bucks", "20 bucks", 20.0, "USD"),
        ("about €1,200.50 total", "€1,200.50", 1200.5, "EUR"),
        ("twenty dollars and fifty cents", "twenty dollars and fifty cents", 20.5, "USD"),
        ("ten pounds", "ten pounds", 10.0, "GBP"),
        ("just a buck", "a buck", 1.0, "USD"),
        ("fifty cents", "fifty cents", 0.5, "USD"),
    ],
)
def test_builtin_amount_of_money(builtin, text, surface, value, unit):
    [entity] = [e for e in builtin.extract(text) if e.entity == "amount-of-money"]
    assert (text[entity.start:entity.end], entity.value, entity.additional_info["unit"]) == (surface, value, unit)


@pytest.mark.parametrize(
    "text, surface, iso",
    [
        ("I was born on the third of May nineteen eighty five",
         "the third of May nineteen eighty five", "1985-05-03T00:00:00.000"),
        ("can you come next Monday", "next Monday", "2024-06-17T00:00:00.000"),
        ("on 03/05/2024 please", "03/05/2024", "2024-03-05T00:00:00.000"),
        ("May 3rd", "May 3rd", "2025-05-03T00:00:00.000"),
    ],
)
def test_builtin_time(builtin, text, surface, iso):
    assert surfaces(text, builtin.extract(text)) == [(surface, "time", iso)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I need twenty three", [("twenty three", "number", 23)]),
        ("give me 2.5 kilos", [("2.5", "number", 2.5)]),
        ("the third option", [("third", "ordinal", 3)]),
        ("order four seven two nine one eight", [("four seven two nine one eight", "digits", "472918")]),
        ("pin double oh seven", [("double oh seven", "digits", "007")]),
        ("order 472918", [("472918", "digits", "472918")]),
        ("mail John.Doe+x@example.co.uk now", [("John.Doe+x@example.co.uk", "email", "John.Doe+x@example.co.uk")]),
        ("call (555) 123-4567", [("(555) 123-4567", "phone-number", "5551234567")]),
        ("five five five one two three four five six seven",
         [("five five five one two three four five six seven", "phone-number", "5551234567")]),
        ("no one called", []),
    ],
)
def test_builtin_dimensions(builtin, text, expected):
    assert surfaces(text, builtin.extract(text)) == expected


def test_builtin_dimensions_config_limits_output():
    text = "$50 on May 3rd for order 4729"
    only_numbers = BuiltinEntityExtractor(dimensions=["number"], reference_date=WEDNESDAY)
    assert surfaces(text, only_numbers.extract(text)) == [("50", "number", 50), ("4729", "number", 4729)]


def test_builtin_rejects_unknown_dimension():
    with pytest.raises(ValueError, match="distance"):
        BuiltinEntityExtractor(dimensions=["number", "distance"])


def test_builtin_persist_load_round_trip(tmp_path):
    BuiltinEntityExtractor(dimensions=["email", "number"]).persist(tmp_path)
    assert BuiltinEntityExtractor.load(tmp_path).dimensions == ["email", "number"]


def test_builtin_entities_serialise_like_duckling(builtin):
    [entity] = builtin.extract("fifty dollars")
    assert entity.to_dict()["additional_info"] == {"value": 50.0, "type": "value", "unit": "USD"}


# --------------------------------------------------------------------------- Synonyms

def trained_mapper():
    examples = [example("I want the nyc office", ("nyc", "city", {"value": "New York"}))]
    mapper = EntitySynonymMapper()
    mapper.train(examples, {"big apple": "New York", "Gold Plan": "gold"})
    return mapper


def test_synonyms_map_values_case_insensitively():
    entities = [Entity(0, 9, "Big Apple", "city"), Entity(10, 13, "NYC", "city"), Entity(14, 23, "gold plan", "plan")]
    mapped = trained_mapper().process(entities)
    assert [(e.value, e.processors) for e in mapped] == [
        ("New York", ["EntitySynonymMapper"]), ("New York", ["EntitySynonymMapper"]), ("gold", ["EntitySynonymMapper"]),
    ]
    assert entities[0].value == "Big Apple"


def test_synonyms_leave_unknown_and_numeric_values_alone():
    entities = [Entity(0, 6, "Boston", "city"), Entity(7, 9, 23, "number")]
    assert trained_mapper().process(entities) == entities


def test_synonym_mapper_persist_load_round_trip(tmp_path):
    trained_mapper().persist(tmp_path)
    assert EntitySynonymMapper.load(tmp_path).synonyms == trained_mapper().synonyms
