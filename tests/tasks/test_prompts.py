from anit.tasks import TASKS, answer_text, task_prompt

RECORD = {"instruction": "Classify the text.", "question": "Which label fits?", "format": "one label",
          "options": ["negative", "positive"], "input": "a fine film"}


class ChatTokenizer:
    """Records the messages a chat template would render."""

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert not tokenize and add_generation_prompt
        self.messages = messages
        return "<user>" + messages[0]["content"] + "<assistant>"


def test_plain_prompt_puts_instruction_first_and_ends_with_answer():
    assert task_prompt(None, RECORD, None, chat=False) == (
        "Instruction: Classify the text.\nQuestion: Which label fits?\nFormat: one label\n"
        "Options: negative, positive\nText: a fine film\nAnswer:")
    assert task_prompt(None, RECORD, "Sort it.", chat=False).startswith("Instruction: Sort it.\nQuestion:")
    assert answer_text("positive", chat=False) == " positive"


def test_chat_prompt_is_one_user_turn_without_answer_cue():
    tok = ChatTokenizer()
    text = task_prompt(tok, RECORD, "Sort it.", chat=True)
    (message,) = tok.messages
    assert message["role"] == "user" and message["content"].startswith("Instruction: Sort it.")
    assert not message["content"].endswith("Answer:") and text.endswith("<assistant>")
    assert answer_text("positive", chat=True) == "positive"


def test_every_task_has_six_or_more_distinct_instructions():
    for name in TASKS:
        task = TASKS.get(name)
        assert len(set(task.instructions)) >= 6
        assert task.default_instruction == task.instructions[0]
        assert task.default_instruction not in task.unseen_instructions
