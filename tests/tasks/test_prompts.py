from anit.tasks import TASKS, chat_messages, render_prompt

RECORD = {"instruction": "Classify the text.", "question": "Which label fits?", "format": "one label",
          "options": ["negative", "positive"], "input": "a fine film"}


def test_prompt_layout_puts_instruction_first_and_ends_with_answer():
    assert render_prompt(RECORD) == ("Instruction: Classify the text.\nQuestion: Which label fits?\n"
                                     "Format: one label\nOptions: negative, positive\nText: a fine film\nAnswer:")
    assert render_prompt(RECORD, "Sort it.").startswith("Instruction: Sort it.\nQuestion:")


def test_chat_variant_is_one_user_turn_without_answer_cue():
    (message,) = chat_messages(RECORD, "Sort it.")
    assert message["role"] == "user" and message["content"].startswith("Instruction: Sort it.")
    assert not message["content"].endswith("Answer:")


def test_every_task_has_six_or_more_distinct_instructions():
    for name in TASKS:
        task = TASKS.get(name)
        assert len(set(task.instructions)) >= 6
        assert task.default_instruction == task.instructions[0]
        assert task.default_instruction not in task.unseen_instructions
