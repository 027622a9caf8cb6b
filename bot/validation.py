"""Check a bot project for mistakes before training, like ``rasa data validate``.

Training happily builds a bot from inconsistent data: a story that names an
intent the domain lacks simply never matches, a misspelled response is only
noticed when a caller hears silence. Every check here points editors at the
``file:line`` of the offending definition. Errors are things that make the bot
misbehave; warnings are likely oversights that a working bot may still have.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from bot.core.policies.rule_policy import RulePolicy
from bot.core.states import State, training_examples
from bot.core.story_graph import story_trackers
from bot.core.tracker import DialogueStateTracker
from bot.training_data.domain import DEFAULT_INTENTS, Origin
from bot.training_data.project import BotProject, load_project
from bot.training_data.retrieval import base_intent, is_full_retrieval_intent, response_for, retrieval_action
from bot.training_data.stories import ActionStep, LoopStep, OrStep, SlotStep, Step, Story, UserStep
from bot.training_data.yaml_reader import TrainingDataError

ERROR = "error"
WARNING = "warning"
NOTE = "note"
RESPONSE_PREFIX = "utter_"
LOOP_ACTIONS = {"action_two_stage_fallback"}  # default actions that run as loops

StepType = TypeVar("StepType", bound=Step)


@dataclass(frozen=True)
class Issue:
    """One finding, printed the way compilers do so editors can jump to it."""

    severity: str
    message: str
    path: str
    line: int | None = None

    def __str__(self) -> str:
        location = f"{self.path}:{self.line}" if self.line else self.path
        return f"{location}: {self.severity}: {self.message}"


@dataclass
class ValidationReport:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    notes: list[Issue] = field(default_factory=list)  # what Helpline does differently; nothing to fix

    @property
    def ok(self) -> bool:
        """Warnings never block training; errors do."""
        return not self.errors

    def add(self, issue: Issue) -> None:
        {ERROR: self.errors, NOTE: self.notes}.get(issue.severity, self.warnings).append(issue)

    def __str__(self) -> str:
        lines = [str(issue) for issue in [*self.errors, *self.warnings, *self.notes]]
        lines.append(f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)")
        return "\n".join(lines)


class ValidationFailed(Exception):
    """The content has errors; nothing is trained from it (``train``, ``test``, ``run`` and ``shell`` alike)."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(f"validation failed with {len(report.errors)} error(s); fix them and try again")


def require_valid(project: BotProject) -> ValidationReport:
    """The validation report of ``project``; raises :class:`ValidationFailed` when it has errors."""
    report = validate_project(project)
    if not report.ok:
        raise ValidationFailed(report)
    return report


def validate_directory(root: str | Path, config_path: str | Path | None = None) -> ValidationReport:
    """Load and validate a project; a file that cannot be read at all is reported, not raised."""
    try:
        project = load_project(root, config_path)
    except TrainingDataError as error:
        report = ValidationReport()
        report.add(Issue(ERROR, error.message, error.path or str(root), error.line))
        return report
    return validate_project(project)


def validate_project(project: BotProject) -> ValidationReport:
    """Run every check; the same finding reached twice (e.g. via ``or`` branches) is reported once."""
    report = ValidationReport()
    issues = dict.fromkeys(issue for check in CHECKS for issue in check(project))
    for issue in sorted(issues, key=lambda i: (i.path, i.line or 0)):
        report.add(issue)
    return report


# --- walking the data -------------------------------------------------------------

def _all_steps(story: Story) -> Iterator[Step]:
    """Rule conditions, steps and the alternatives of ``or`` blocks, flattened."""
    for step in [*story.conditions, *story.steps]:
        if isinstance(step, OrStep):
            yield from step.alternatives
        else:
            yield step


def _steps_of(project: BotProject, step_type: type[StepType]) -> Iterator[tuple[Story, StepType]]:
    for story in [*project.data.stories, *project.data.rules]:
        for step in _all_steps(story):
            if isinstance(step, step_type):
                yield story, step


def _describe(story: Story) -> str:
    return f"{'rule' if story.is_rule else 'story'} '{story.name}'"


def _at(origin: Origin) -> tuple[str, int | None]:
    return origin.path, origin.line


def _split_origin(origin: str) -> tuple[str, int | None]:
    """``Rule.origin`` is the ``path:line`` string of its story."""
    path, _, line = origin.rpartition(":")
    return path, int(line) if line.isdigit() else None


# --- config --------------------------------------------------------------------------

def check_config_options(project: BotProject) -> Iterator[Issue]:
    """Rasa settings Helpline accepts but does not use: one note each, so none is ignored silently."""
    for note, line in project.config.notes:
        yield Issue(NOTE, note, str(project.config.path), line)


# --- intents -------------------------------------------------------------------------

def check_story_intents(project: BotProject) -> Iterator[Issue]:
    """A story intent the domain lacks is never predicted by NLU, so the story can never match."""
    for story, step in _steps_of(project, UserStep):
        if step.intent and base_intent(step.intent) not in project.domain.intents:
            yield Issue(ERROR, f"The intent '{step.intent}' is used in {_describe(story)}, but it is not listed in "
                               "the domain file. You should add it to your domain file!", story.path, step.line)


def check_intent_examples(project: BotProject) -> Iterator[Issue]:
    """NLU can only predict intents it has examples for, and only domain intents reach the dialogue.

    A retrieval intent (``faq/payment_methods``) is listed in the domain by its base name (``faq``) and
    answered by the response ``utter_faq/payment_methods``; without that response ``utter_faq`` says nothing.
    """
    domain = project.domain
    first_example = {}
    for example in project.data.nlu.examples:
        first_example.setdefault(example.intent, example)
    with_examples = {base_intent(name) for name in first_example}
    for intent in domain.intents.values():
        if intent.name not in with_examples and intent.name not in DEFAULT_INTENTS:
            yield Issue(WARNING, f"The intent '{intent.name}' is listed in the domain file, but is not found in the "
                                 "NLU training data.", *_at(intent.origin))
    for name, example in first_example.items():
        if base_intent(name) not in domain.intents:
            yield Issue(WARNING, f"There is a message in the training data labeled with intent '{base_intent(name)}'. "
                                 "This intent is not listed in your domain. You should add that intent to your domain "
                                 "file!", example.path, example.line)
        elif is_full_retrieval_intent(name) and response_for(name) not in domain.responses:
            yield Issue(WARNING, f"The retrieval intent '{name}' has examples but no response '{response_for(name)}'; "
                                 f"'utter_{base_intent(name)}' says nothing when it is predicted.",
                        example.path, example.line)


def check_duplicate_examples(project: BotProject) -> Iterator[Issue]:
    """The same words under two intents teach the classifier a coin toss (case and spacing don't matter to it).

    A warning, as in Rasa: the bot still works, and two of the known-good example bots have such duplicates.
    """
    first_seen = {}
    for example in project.data.nlu.examples:
        seen = first_seen.setdefault(" ".join(example.text.lower().split()), example)
        if seen.intent != example.intent:
            yield Issue(WARNING, f"The example '{example.text}' is labeled with intent '{example.intent}' here and with "
                               f"intent '{seen.intent}' at {seen.path}:{seen.line}. Each example should appear "
                               "with one intent only.", example.path, example.line)


# --- actions and responses ----------------------------------------------------------

def check_story_actions(project: BotProject) -> Iterator[Issue]:
    """An unknown action stops the conversation at runtime; a response action needs its texts."""
    domain = project.domain
    for story, step in _steps_of(project, ActionStep):
        if step.name is None:  # a ``bot:`` text step
            continue
        if (step.name.startswith(RESPONSE_PREFIX) and step.name not in domain.responses
                and step.name not in domain.retrieval_actions):
            yield Issue(ERROR, f"The action '{step.name}' is used in {_describe(story)}, but there is no response "
                               "with this name in the domain.", story.path, step.line)
        elif not domain.is_known_action(step.name):
            yield Issue(ERROR, f"The action '{step.name}' is used in {_describe(story)}, but it is not listed in the "
                               "domain's actions, responses or forms.", story.path, step.line)


def _directly_uttered(project: BotProject) -> set[str]:
    """Responses the bot says without a custom action: named in stories/rules, or a form's slot prompts."""
    names = {step.name for _, step in _steps_of(project, ActionStep) if step.name}
    names.update(r for r in project.domain.responses if retrieval_action(r) in names)
    for form in project.domain.forms.values():
        for slot in form.required_slots:
            names.update({f"utter_ask_{slot}", f"utter_ask_{form.name}_{slot}"})
    return names


def check_response_variables(project: BotProject) -> Iterator[Issue]:
    """``{name}`` in a response is filled from slots, or from values a custom action passes along.

    When the dialogue itself utters the response only slots can fill it, so an unknown name is
    an error; when only custom actions use it, the action may supply the value (Rasa's
    ``dispatcher.utter_message(response=..., name=value)``), so it is a warning.
    """
    domain = project.domain
    direct = _directly_uttered(project)
    for name in domain.responses:
        # Responses written in data files have no recorded origin; the project is the best we can name.
        origin = domain.response_origins.get(name, Origin(str(project.root)))
        for variable in sorted(domain.template_variables(name) - set(domain.slots)):
            if name in direct:
                yield Issue(ERROR, f"The response '{name}' uses '{{{variable}}}', but there is no slot "
                                   f"'{variable}' to fill it.", *_at(origin))
            else:
                yield Issue(WARNING, f"The response '{name}' uses '{{{variable}}}', which is not a slot; the custom "
                                     "action that utters it must pass this value.", *_at(origin))


# --- entities, slots and forms --------------------------------------------------------

def check_entities(project: BotProject) -> Iterator[Issue]:
    """Entities missing from the domain are extracted but never reach slots or dialogue states."""
    known = project.domain.entities
    for example in project.data.nlu.examples:
        for name in sorted({e["entity"] for e in example.entities} - set(known)):
            yield Issue(WARNING, f"The entity '{name}' is annotated in an NLU example, but it is not listed in the "
                                 "domain.", example.path, example.line)
    for story, step in _steps_of(project, UserStep):
        for name in sorted({e["entity"] for e in step.entities} - set(known)):
            yield Issue(WARNING, f"The entity '{name}' is used in {_describe(story)}, but it is not listed in the "
                                 "domain.", story.path, step.line)


def check_slot_names(project: BotProject) -> Iterator[Issue]:
    """Setting or requiring a slot the domain lacks silently does nothing."""
    domain = project.domain
    for story, step in _steps_of(project, SlotStep):
        for name in step.slots:
            if name not in domain.slots:
                yield Issue(ERROR, f"The slot '{name}' is set in {_describe(story)}, but it is not listed in the "
                                   "domain.", story.path, step.line)
    for form in domain.forms.values():
        for name in form.required_slots:
            if name not in domain.slots:
                yield Issue(ERROR, f"The form '{form.name}' requires the slot '{name}', but it is not listed in the "
                                   "domain.", *_at(form.origin))


def check_slot_mappings(project: BotProject) -> Iterator[Issue]:
    """A mapping that names an unknown entity or intent never fires; one tied to an unknown form is a typo."""
    domain = project.domain
    for slot in domain.slots.values():
        for mapping in slot.mappings:
            if mapping.entity and mapping.entity not in domain.entities:
                yield Issue(WARNING, f"The slot '{slot.name}' is mapped from the entity '{mapping.entity}', which is "
                                     "not listed in the domain.", *_at(slot.origin))
            for intent in [*mapping.intent, *mapping.not_intent]:
                if intent not in domain.intents:
                    yield Issue(WARNING, f"A mapping of the slot '{slot.name}' names the intent '{intent}', which is "
                                         "not listed in the domain.", *_at(slot.origin))
            for condition in mapping.conditions:
                loop = condition.get("active_loop")
                if loop and loop not in domain.forms:
                    yield Issue(ERROR, f"A mapping of the slot '{slot.name}' is conditioned on the form '{loop}', "
                                       "which is not listed in the domain.", *_at(slot.origin))


def check_active_loops(project: BotProject) -> Iterator[Issue]:
    """Forms and Rasa's two-stage fallback are the loops a conversation can be in."""
    for story, step in _steps_of(project, LoopStep):
        if step.name and step.name not in project.domain.forms and step.name not in LOOP_ACTIONS:
            yield Issue(ERROR, f"{_describe(story).capitalize()} activates the loop '{step.name}', but there is no "
                               "form with this name in the domain.", story.path, step.line)


# --- rules against rules and stories ---------------------------------------------------

def check_rules(project: BotProject) -> Iterator[Issue]:
    """Rules always win over stories at runtime, so any disagreement means some training data is never used."""
    policy = RulePolicy()
    policy.train(project.data.rules, project.domain)
    yield from _contradicting_rules(policy)
    yield from _stories_against_rules(project, policy)


def _contradicting_rules(policy: RulePolicy) -> Iterator[Issue]:
    for first, second in policy.contradictions():
        yield Issue(ERROR, f"The rule '{second.name}' predicts '{second.action}', but the rule '{first.name}' "
                           f"({first.origin}) predicts '{first.action}' in the same situation.",
                    *_split_origin(second.origin))


def _stories_against_rules(project: BotProject, policy: RulePolicy) -> Iterator[Issue]:
    """Replay every story path and ask the rules what they would do before each story action."""
    domain = project.domain
    for name, events in story_trackers(project.data.stories, domain):
        story = _story_named(project.data.stories, name)
        for states, action in training_examples(DialogueStateTracker(name, domain, events)):
            rule = policy.matching_rule(states)
            if rule is not None and rule.action != action and not _continues_active_loop(states[-1], action):
                yield Issue(ERROR, f"The story '{name}' runs '{action}', but the rule '{rule.name}' ({rule.origin}) "
                                   f"predicts '{rule.action}' at that point.", story.path, story.line)


def _continues_active_loop(state: State, action: str) -> bool:
    """An active loop runs before any rule is consulted (``RulePolicy.predict``), and a rule
    predicting listen after an interruption hands back to the loop: running the loop is never a
    disagreement with a rule."""
    return (state.get("active_loop") or {}).get("name") == action


def _story_named(stories: list[Story], tracker_name: str) -> Story:
    """Checkpoint paths are named ``first > second``; the report points at the first story."""
    return next(s for s in stories if tracker_name == s.name or tracker_name.startswith(f"{s.name} > "))


Check = Callable[[BotProject], Iterable[Issue]]
CHECKS: list[Check] = [
    check_config_options,
    check_story_intents,
    check_intent_examples,
    check_duplicate_examples,
    check_story_actions,
    check_response_variables,
    check_entities,
    check_slot_names,
    check_slot_mappings,
    check_active_loops,
    check_rules,
]
