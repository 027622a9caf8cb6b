"""The intent classifier on a tiny inline bot: real MiniLM model, a few seconds of training."""
import json
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.intent_classifier import IntentClassifier
from bot.nlu.minilm import TRAIN_THREADS_ENV, resolve_train_threads

TRAINING = {
    "greet": ["hello", "hi there", "good morning", "hey", "good evening", "hello, anybody there?",
              "hi, nice to talk to you", "greetings"],
    "goodbye": ["bye", "goodbye", "see you later", "talk to you soon", "bye bye, thanks", "have a nice day, bye",
                "that's all, goodbye", "see you"],
    "check_balance": ["what is my balance", "how much money do I have", "show my account balance",
                      "how much is left on my account", "what's the balance of my checking account",
                      "tell me my current balance", "balance please", "how much cash is in my account"],
    "block_card": ["block my card", "I lost my credit card", "my card was stolen", "freeze my debit card",
                   "please cancel my stolen card", "someone took my card, block it", "I can't find my card",
                   "disable my card right now"],
    "opening_hours": ["when are you open", "what are your opening hours", "are you open on sunday",
                      "what time do you close", "when does the branch open", "opening times please",
                      "are you open today", "until when are you open"],
    "human_agent": ["talk to a human", "I want to speak to an agent", "connect me to a person",
                    "let me talk to someone real", "operator please", "can I speak with a representative"],
    "thanks": ["thanks", "thank you very much"],
}
UNSEEN = {
    "hiya, good afternoon": "greet",
    "ok bye for now": "goodbye",
    "how much money is in my savings account": "check_balance",
    "my wallet with my card got stolen": "block_card",
    "what hours is your office open on saturday": "opening_hours",
    "can I talk to a real person please": "human_agent",
}


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    texts = [t for examples in TRAINING.values() for t in examples]
    labels = [intent for intent, examples in TRAINING.items() for _ in examples]
    stages = set()
    model = IntentClassifier()
    model.train(texts, labels, progress=lambda stage, done, total: stages.add(stage))
    assert stages  # progress was reported
    return model


def test_ranks_unseen_paraphrases(classifier):
    for text, intent in UNSEEN.items():
        ranking = classifier.predict(text)
        assert ranking[0][0] == intent, (text, ranking[:3])
        assert len(ranking) == len(TRAINING)
        assert [p for _, p in ranking] == sorted((p for _, p in ranking), reverse=True)
        assert sum(p for _, p in ranking) == pytest.approx(1.0, abs=1e-4)


def test_batch_matches_single(classifier):
    texts = list(UNSEEN)
    for single, batched in zip((classifier.predict(t) for t in texts), classifier.predict_batch(texts)):
        assert [name for name, _ in single] == [name for name, _ in batched]
        assert [p for _, p in single] == pytest.approx([p for _, p in batched], abs=1e-4)


def test_persist_load_round_trip(classifier, tmp_path: Path):
    classifier.persist(tmp_path / "model")
    loaded = IntentClassifier.load(tmp_path / "model")
    for text in UNSEEN:
        assert loaded.predict(text) == classifier.predict(text)


def test_persisted_model_is_data_only(classifier, tmp_path: Path):
    """JSON and npz files whose arrays load without pickle: loading a model runs no code from it."""
    classifier.persist(tmp_path / "model")
    files = sorted((tmp_path / "model").iterdir())
    assert {f.suffix for f in files} == {".json", ".npz"}, files
    for file in files:
        if file.suffix == ".npz":
            with np.load(file, allow_pickle=False) as arrays:
                assert all(arrays[name].dtype != object for name in arrays.files)
        else:
            json.loads(file.read_text())


def test_load_from_empty_directory_fails_clearly(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no trained intent classifier"):
        IntentClassifier.load(tmp_path)


def test_rejects_single_intent_and_unknown_options():
    with pytest.raises(ValueError, match="at least two intents"):
        IntentClassifier().train(["hi", "hello"], ["greet", "greet"])
    with pytest.raises(TypeError, match="unknown IntentClassifier options"):
        IntentClassifier(learning_rat=1e-3)
    with pytest.raises(ValueError, match="precision must be one of"):
        IntentClassifier(precision="float16")


def test_training_threads_from_argument_environment_or_cores(monkeypatch):
    monkeypatch.delenv(TRAIN_THREADS_ENV, raising=False)
    assert resolve_train_threads() >= 1
    assert resolve_train_threads(3) == 3
    monkeypatch.setenv(TRAIN_THREADS_ENV, "1")
    assert resolve_train_threads() == 1
    monkeypatch.setenv(TRAIN_THREADS_ENV, "two")
    with pytest.raises(ValueError, match=TRAIN_THREADS_ENV):
        resolve_train_threads()
    with pytest.raises(ValueError, match=">= 1"):
        resolve_train_threads(0)
