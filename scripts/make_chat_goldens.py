#!/usr/bin/env python3
"""Golden chat renderings for the Qwen3 template, made with transformers' apply_chat_template.

Writes Tests/TokenizersTests/Fixtures/chat_goldens.json: a list of cases
{"messages": [...], "tools": [...] (optional), "add_generation_prompt": bool,
 "enable_thinking": bool (optional; absent = undefined), "text": rendered, "ids": encode(rendered)}.
No network: the tokenizer is built from tokenizer.json and the template from tokenizer_config.json.

Usage: python3 scripts/make_chat_goldens.py [--dir ../shared/testdata/qwen3-tokenizer]
"""
import argparse
import itertools
import json
import os

from transformers import PreTrainedTokenizerFast

from fixture_common import QWEN3_TOKENIZER_DIR, fixture_path, write_json

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}

CONVERSATIONS = [
    [{"role": "user", "content": "Hello!"}],
    [SYSTEM, {"role": "user", "content": "What is 2+2?"}],
    [SYSTEM, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}],
    [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."},
     {"role": "user", "content": "And of Japan?"}, {"role": "assistant", "content": "Tokyo."}],
    [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."},
     {"role": "user", "content": "And of Japan?"}],
    # <think> blocks inside assistant content: stripped from earlier turns, kept in the last.
    [{"role": "user", "content": "Think first."},
     {"role": "assistant", "content": "<think>\nLet me think.\n</think>\n\nThe answer is 4."},
     {"role": "user", "content": "Again?"},
     {"role": "assistant", "content": "<think>\n\nsecond thought\n\n</think>\n\n\nStill 4."}],
    [{"role": "user", "content": "x"}, {"role": "assistant", "content": "no open tag</think>answer"}],
    [{"role": "user", "content": "x"}, {"role": "assistant", "content": "<think>a</think>b</think>\nc"}],
    [{"role": "user", "content": "x"}, {"role": "assistant", "content": "pre<think>one<think>two\n</think>\n\nrest"}],
    # reasoning_content takes precedence over <think> in content.
    [{"role": "user", "content": "Why?"},
     {"role": "assistant", "content": "Because.", "reasoning_content": "\nThe user asks why.\n"}],
    [{"role": "user", "content": "Why?"},
     {"role": "assistant", "content": "<think>ignored?</think>Because.", "reasoning_content": "kept"}],
    [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1", "reasoning_content": "r1"},
     {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2", "reasoning_content": ""}],
    [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1", "reasoning_content": None},
     {"role": "user", "content": "q2"}],
    # A system message that is not first is rendered as a turn.
    [{"role": "user", "content": "a"}, {"role": "system", "content": "late system"}, {"role": "assistant", "content": "b"}],
    # Tool calls and tool responses (multi-step: the last user query is before the tool turns).
    [SYSTEM, {"role": "user", "content": "Weather in Paris?"},
     {"role": "assistant", "content": "", "tool_calls": [
         {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}}]},
     {"role": "tool", "content": "{\"temp\": 21}"},
     {"role": "assistant", "content": "It is 21 °C in Paris."}],
    [{"role": "user", "content": "Two tools"},
     {"role": "assistant", "content": "<think>plan</think>Calling.", "tool_calls": [
         {"name": "a", "arguments": "{\"x\": 1}"}, {"function": {"name": "b", "arguments": {"y": [1, 2], "z": None}}}]},
     {"role": "tool", "content": "r1"}, {"role": "tool", "content": "r2"},
     {"role": "assistant", "content": "<think>\ndone\n</think>\n\nBoth ran."}],
    [{"role": "user", "content": "<tool_response>\nnot a real query\n</tool_response>"},
     {"role": "assistant", "content": "<think>r</think>ok"}],
    [{"role": "user", "content": "real"}, {"role": "assistant", "content": "<think>r0</think>x"},
     {"role": "user", "content": "<tool_response>\nresult\n</tool_response>"},
     {"role": "assistant", "content": "<think>r1</think>y"}],
    [{"role": "tool", "content": "first message is a tool"}],
    # Unicode, empty content, whitespace.
    [{"role": "user", "content": "你好，请介绍一下你自己。"}, {"role": "assistant", "content": "我是一个AI助手。😀"}],
    [{"role": "user", "content": ""}, {"role": "assistant", "content": ""}],
    [{"role": "user", "content": "  spaced  \n\n"}, {"role": "assistant", "content": "\n\nleading newlines"}],
    [{"role": "system", "content": "Sys only"}],
]

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city, in °C.",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=QWEN3_TOKENIZER_DIR)
    ap.add_argument("--out", default=fixture_path("TokenizersTests/Fixtures/chat_goldens.json"))
    args = ap.parse_args()
    with open(os.path.join(args.dir, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(args.dir, "tokenizer.json"),
                                  eos_token=config["eos_token"], pad_token=config["pad_token"])
    tok.chat_template = config["chat_template"]

    cases = []
    for i, messages in enumerate(CONVERSATIONS):
        for gen, thinking in itertools.product([False, True], [None, True, False]):
            case = {"messages": messages, "add_generation_prompt": gen}
            kwargs = {}
            if thinking is not None:
                case["enable_thinking"] = thinking
                kwargs["enable_thinking"] = thinking
            if i in (1, 14) and gen:
                case["tools"] = TOOLS
                kwargs["tools"] = TOOLS
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen, **kwargs)
            case["text"] = text
            case["ids"] = tok(text, add_special_tokens=False)["input_ids"]
            cases.append(case)
    write_json(cases, args.out)
    print(f"{len(cases)} cases -> {args.out}")


if __name__ == "__main__":
    main()
