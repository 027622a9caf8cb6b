"""Rasa's RulePolicy: rules as partial state patterns, plus loop handling and core fallback.

A rule becomes, for each action it predicts, the list of partial states
before that action. A rule applies when each of its states is contained in the
conversation's state at the same distance from now. Only features a rule
mentions constrain it; ``null`` in a rule means "must not be set".
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from bot.core.policies import Prediction
from bot.core.states import State, entity_features
from bot.core.story_graph import explicit_events, linear_variants
from bot.core.tracker import ACTION_LISTEN, DialogueStateTracker
from bot.training_data.domain import Domain
from bot.training_data.stories import Story

NOT_SET = "__should_not_be_set__"
DEFAULT_ACTION_INTENTS = {"restart": "action_restart", "back": "action_back",
                          "session_start": "action_session_start"}
PRIORITY = 6


@dataclass
class Rule:
    name: str
    origin: str
    states: list[State]
    action: str
    conversation_start: bool

    @property
    def specificity(self) -> int:
        """Rasa prefers the rule with the longest key."""
        return len(json.dumps(self.states, default=list))


def _rule_states(events: list[Event], domain: Domain) -> list[tuple[list[State], str]]:
    """Partial states before each action in a rule's events, with that action."""
    current: dict[str, Any] = {}
    slots: dict[str, Any] = {}
    history: list[State] = []
    examples = []
    for event in events:
        if isinstance(event, ActionExecuted):
            state = dict(current)
            if slots:
                state["slots"] = dict(slots)
            history.append(state)
            examples.append((list(history), event.name or event.action_text or ""))
            current["prev_action"] = {"action_name": event.name}
        elif isinstance(event, UserUttered):
            user: dict[str, Any] = {"intent": event.intent_name}
            if event.entities:
                user["entities"] = entity_features(event.entities, event.intent_name, domain)
            current["user"] = user
        elif isinstance(event, ActiveLoop):
            current["active_loop"] = {"name": event.name or NOT_SET}
        elif isinstance(event, SlotSet):
            slot = domain.slots.get(event.name)
            if slot is None or not slot.influence_conversation:
                continue
            slots[event.name] = NOT_SET if event.value is None else slot.feature(event.value)
    return examples


def _sub_state_matches(rule_value: Any, conversation_value: Any) -> bool:
    if rule_value == NOT_SET:
        return conversation_value is None
    return rule_value == conversation_value


def state_matches(rule_state: State, state: State) -> bool:
    """Is every feature the rule mentions present, with the same value, in the conversation state?"""
    for key, rule_sub in rule_state.items():
        conversation_sub = state.get(key) or {}
        if key == "slots":
            if not all(_sub_state_matches(v, _as_tuple(conversation_sub.get(k))) for k, v in rule_sub.items()):
                return False
        elif key == "active_loop":
            if not _sub_state_matches(rule_sub["name"], conversation_sub.get("name")):
                return False
        elif key == "user":
            if rule_sub.get("intent") != conversation_sub.get("intent"):
                return False
            if "entities" in rule_sub and tuple(rule_sub["entities"]) != tuple(conversation_sub.get("entities", ())):
                return False
        elif rule_sub != conversation_sub:
            return False
    return True


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class RulePolicy:
    """Deterministic rules with Rasa's loop and fallback semantics."""

    name = "RulePolicy"

    def __init__(self, core_fallback_threshold: float = 0.3, core_fallback_action_name: str = "action_default_fallback",
                 enable_fallback_prediction: bool = True, **_: Any):
        self.core_fallback_threshold = float(core_fallback_threshold)
        self.core_fallback_action_name = core_fallback_action_name
        self.enable_fallback_prediction = enable_fallback_prediction
        self.rules: list[Rule] = []

    # --- training ----------------------------------------------------------------
    def train(self, rules: list[Story], domain: Domain) -> None:
        self.rules = []
        for story in rules:
            for variant in linear_variants([*story.conditions, *story.steps]):
                self.rules.extend(self._rules_from_events(story, variant, domain))

    def _rules_from_events(self, story: Story, events: list[Event], domain: Domain) -> list[Rule]:
        events = explicit_events(events, domain, final_listen=story.wait_for_user_input)
        rules = []
        for states, action in _rule_states(events, domain):
            if not story.conversation_start:
                # Like Rasa's rule snippet: a rule may start anywhere, so the state before its
                # first action is no constraint, and that first action alone predicts nothing.
                states = states[1:]
            if states:
                rules.append(Rule(story.name, story.origin, states, action, story.conversation_start))
        return rules

    def contradictions(self) -> list[tuple[Rule, Rule]]:
        """Pairs of rules with identical states that predict different actions."""
        seen: dict[str, Rule] = {}
        found = []
        for rule in self.rules:
            key = json.dumps([rule.states, rule.conversation_start], sort_keys=True, default=list)
            other = seen.setdefault(key, rule)
            if other.action != rule.action:
                found.append((other, rule))
        return found

    # --- prediction --------------------------------------------------------------
    def matching_rule(self, states: list[State]) -> Rule | None:
        best: Rule | None = None
        for rule in self.rules:
            n = len(rule.states)
            if n > len(states) or (rule.conversation_start and n != len(states)):
                continue
            if all(state_matches(r, c) for r, c in zip(rule.states, states[-n:])):
                if best is None or rule.specificity > best.specificity:
                    best = rule
        return best

    def predict(self, tracker: DialogueStateTracker, states: list[State]) -> Prediction | None:
        loop = tracker.active_loop
        latest = tracker.latest_action_name
        if loop and not loop.get("rejected"):
            return self._prediction(loop["name"] if latest != loop["name"] else ACTION_LISTEN)
        rule = self.matching_rule(states)
        if rule is not None:
            action = rule.action
            if loop and action == ACTION_LISTEN and latest not in (ACTION_LISTEN, loop["name"]):
                action = loop["name"]  # an unhappy path ended: go back to the loop
            return self._prediction(action)
        if latest == ACTION_LISTEN and tracker.latest_message is not None:
            default = DEFAULT_ACTION_INTENTS.get(tracker.latest_message.intent_name or "")
            if default:
                return self._prediction(default)
        if self.enable_fallback_prediction:
            return Prediction(self.core_fallback_action_name, self.core_fallback_threshold, self.name, PRIORITY)
        return None

    def _prediction(self, action: str) -> Prediction:
        return Prediction(action, 1.0, self.name, PRIORITY)

    # --- persistence -------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"core_fallback_threshold": self.core_fallback_threshold,
                "core_fallback_action_name": self.core_fallback_action_name,
                "enable_fallback_prediction": self.enable_fallback_prediction,
                "rules": [{"name": r.name, "origin": r.origin, "states": r.states, "action": r.action,
                           "conversation_start": r.conversation_start} for r in self.rules]}

    @classmethod
    def from_dict(cls, data: dict) -> "RulePolicy":
        policy = cls(data["core_fallback_threshold"], data["core_fallback_action_name"],
                     data["enable_fallback_prediction"])
        policy.rules = [Rule(r["name"], r["origin"], _tuples(r["states"]), r["action"], r["conversation_start"])
                        for r in data["rules"]]
        return policy


def _tuples(states: list[State]) -> list[State]:
    """JSON turns tuples into lists; state comparison needs the tuples back."""
    for state in states:
        if "slots" in state:
            state["slots"] = {k: (v if v == NOT_SET else tuple(v)) for k, v in state["slots"].items()}
        if "user" in state and "entities" in state["user"]:
            state["user"]["entities"] = tuple(state["user"]["entities"])
    return states
