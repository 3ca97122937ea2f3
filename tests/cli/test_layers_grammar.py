"""The --layers grammar: every word, alias and setting, round trips, and errors naming the token."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnkit.cli.layers_grammar import (
    COURSE_MODELS,
    LAYER_WORDS,
    grammar_help,
    keeps_image_shape,
    needs_images,
    parse_layers,
    stack_text,
    usage,
)
from nnkit.errors import NnkitInputError
from nnkit.nn.layers import LAYER_TYPES
from nnkit.nn.stack import summary


def test_a_three_conv_stack_as_the_course_writes_it():
    specs = parse_layers("conv 32 3 relu, maxpool 2, conv 64 3 relu, maxpool 2, conv 128 3 relu, flatten, dense 10 softmax")
    assert specs == [
        {"type": "conv2d", "filters": 32, "kernel": 3, "activation": "relu"},
        {"type": "maxpool2d", "size": 2, "op": "max"},
        {"type": "conv2d", "filters": 64, "kernel": 3, "activation": "relu"},
        {"type": "maxpool2d", "size": 2, "op": "max"},
        {"type": "conv2d", "filters": 128, "kernel": 3, "activation": "relu"},
        {"type": "flatten"},
        {"type": "dense", "units": 10, "activation": "softmax"},
    ]
    assert specs == parse_layers(COURSE_MODELS["course-cnn"].layers)


def test_settings_aliases_and_case():
    specs = parse_layers("Conv2D 8 5 stride=2 padding=same activation=tanh, avgpool 3 stride=1, Linear 2 sigmoid")
    assert specs == [
        {"type": "conv2d", "filters": 8, "kernel": 5, "stride": 2, "padding": "same", "activation": "tanh"},
        {"type": "maxpool2d", "size": 3, "op": "mean", "stride": 1},
        {"type": "dense", "units": 2, "activation": "sigmoid"},
    ]
    assert parse_layers("dropout 0.5, dense 3") == [{"type": "dropout", "rate": 0.5}, {"type": "dense", "units": 3}]


def test_course_models_count_the_chapters_parameters():
    assert summary(parse_layers(COURSE_MODELS["course-cnn"].layers), (28, 28, 1))["total_params"] == 104_202
    assert summary(parse_layers(COURSE_MODELS["course-mlp"].layers), (28, 28, 1))["total_params"] == 101_770
    cnn = COURSE_MODELS["course-cnn"]
    assert (cnn.optimizer, cnn.lr, cnn.batch_size, cnn.epochs, cnn.val_split, cnn.val_from, cnn.init) == (
        "rmsprop-keras", 1e-3, 128, 10, 0.2, "last", "keras")


def test_help_names_every_word_and_reads_the_engines_registry():
    text = grammar_help()
    for word, (cls, _) in LAYER_WORDS.items():
        assert usage(word) in text
        assert LAYER_TYPES[cls.type_name] is cls
    assert "conv FILTERS KERNEL [ACTIVATION] [stride=N] [padding=valid|same]" in text
    assert "softmax" in text and "leaky-relu" in text


def test_what_needs_images():
    assert needs_images(parse_layers("conv 2 2, flatten, dense 2"))
    assert not needs_images(parse_layers("flatten, dense 2"))
    assert keeps_image_shape(parse_layers("flatten, dense 2")) and not keeps_image_shape(parse_layers("dense 2"))


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("", "--layers is empty", "layers are: conv, maxpool"),
        ("conv 8 3,, dense 2", "layer 2 is empty", "layers are"),
        ("convolution 8 3, dense 2", "unknown layer 'convolution' (layer 1)", "layers are: " + ", ".join(LAYER_WORDS)),
        ("conv 8, dense 2", "conv needs KERNEL", "usage: conv FILTERS KERNEL"),
        ("conv, dense 2", "conv needs FILTERS", "usage: conv FILTERS KERNEL"),
        ("conv 8 3 3, dense 2", "too many values for conv: '3'", "usage"),
        ("conv 8 3 rleu, dense 2", "unknown activation 'rleu' after conv", "activations are: relu"),
        ("conv 8 3 relu tanh, dense 2", "two activations", "usage"),
        ("conv 8 x, dense 2", "'x': kernel must be a whole number", "usage"),
        ("conv 0 3, dense 2", "'0': filters must be an integer (a whole number) from 1 to 1000000, not 0", "usage"),
        ("conv 8 3 padding=full, dense 2", "padding must be one of valid, same", "usage"),
        ("conv 8 3 dilation=2, dense 2", "conv takes no setting 'dilation'", "conv takes: stride, padding, activation"),
        ("maxpool 2 relu, dense 2", "too many values for maxpool: 'relu'", "usage: maxpool SIZE [stride=N]"),
        ("flatten 3, dense 2", "too many values for flatten", "usage: flatten"),
        ("dropout, dense 2", "dropout needs RATE", "usage: dropout RATE"),
        ("dropout 1, dense 2", "rate must be a number in [0, 1)", "usage"),
        ("dense 2, flatten", "must end with a dense layer", "dense 10 softmax"),
        ("dense 4 softmax, dense 2", "softmax only ends the stack", "hidden activations are"),
        ("dense 4, conv 2 2, dense 2", "needs images, but layer 1 already made them rows", "before flatten"),
    ],
)
def test_every_mistake_names_the_token_and_the_choices(text, message, hint):
    with pytest.raises(NnkitInputError) as error:
        parse_layers(text)
    assert message in error.value.message
    assert hint in (error.value.hint or "")


@given(
    st.lists(
        st.one_of(
            st.builds(lambda f, k, s, p, a: f"conv {f} {k}" + (f" {a}" if a else "") + (f" stride={s}" if s else "")
                      + (f" padding={p}" if p else ""), st.integers(1, 64), st.integers(1, 7), st.sampled_from([None, 1, 2]),
                      st.sampled_from([None, "valid", "same"]), st.sampled_from([None, "relu", "tanh"])),
            st.builds(lambda w, n: f"{w} {n}", st.sampled_from(["maxpool", "meanpool"]), st.integers(1, 4)),
        ),
        max_size=4,
    ),
    st.sampled_from(["", "dropout 0.25, ", "flatten, dropout 0.5, dense 7 gelu, "]),
)
def test_stack_text_round_trips(image_part, dense_part):
    text = ", ".join([*image_part, f"{dense_part}dense 3 softmax"]) if image_part else f"{dense_part}dense 3 softmax"
    specs = parse_layers(text)
    assert parse_layers(stack_text(specs)) == specs
