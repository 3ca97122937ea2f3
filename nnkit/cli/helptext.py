r"""How every command's ``--help`` reads: its course section, prose that wraps, examples one per line.

Typer renders help with Rich markup, which brings two traps. A word in square brackets is taken
as a style tag and vanishes (``nnkit-cli[medical]`` printed as ``nnkit-cli``), and a docstring's
line breaks are kept exactly as typed, so prose breaks mid-sentence while examples written on one
line run into each other. :func:`prepare_help` fixes both in one place for every command, with
Click's own convention: a paragraph whose first line is ``\b`` keeps its line breaks (the
examples, one per line); every other paragraph is one flowing paragraph. All help text is plain
text: brackets are escaped, never read as markup.

Each command's help also names the section of the course it belongs to, in the course's own words
(:data:`COURSE_SECTIONS`), right under its first line.
"""

from __future__ import annotations

import inspect
import re

#: The course: 医療従事者のためのPython: 深層学習入門 (python_4_dl_intro) and its next chapter.
COURSE = "医療従事者のためのPython: 深層学習入門"

#: Every command → the section of the course it lets a learner run, with the course's terms.
COURSE_SECTIONS = {
    "activate": "2-5 活性化関数 (activation functions: ReLU関数, Sigmoid関数, Softmax関数)",
    "loss": "2-7 損失関数 (loss functions: 二乗和誤差, 交差エントロピー誤差)",
    "onehot": "2-6 画像および教師データの変形: 教師データの変換 (one-hot ベクトル)",
    "reshape": "2-6 画像および教師データの変形: 画像の変換 (reshape)",
    "convolve": "3-2 畳み込み層 (convolution: フィルタ, ストライド, 特徴量マップ)",
    "pool": "3-3 プーリング層 (最大値プーリング, max pooling)",
    "shift": "3-1 畳み込みニューラルネットワークの特徴 (平行移動不変性 translation invariance), 3-3 プーリング層",
    "train-xor": "2-3 隠れ層 hidden layer の意義 (XOR = AND(NAND, OR))",
    "train-mlp": "2-4 全結合層, 2-8 オプティマイザ, 2-9 バッチ処理; next chapter: 手書き数字の分類 (MNIST)",
    "predict": "2-2 深層学習の流れ (順伝播 forward propagation with a trained model); next chapter: 手書き数字の分類",
    "dense": "2-1 ニューラルネットワークの最小単位, 2-4 全結合層 Fully-connected layer / Dense layer",
    "optimize": "2-8 オプティマイザ (最適化関数)",
    "backprop": "2-2 深層学習の流れ (順伝播 → 損失 → 逆伝播 backward propagation → 更新), 2-8 オプティマイザ",
    "train": "3. 畳み込みニューラルネットワーク (CNN); next chapter: 手書き数字の分類 (Conv2D, MaxPooling2D)",
    "summary": "3-2 畳み込み層, 3-3 プーリング層; next chapter: model.summary() (出力の形とパラメータ数)",
    "datasets": "next chapter: 手書き数字の分類 (MNIST, Fashion-MNIST)",
    "export": "4. 深層学習専用のフレームワーク (a model that leaves nnkit: ONNX)",
    "evaluate": "2-2 深層学習の流れ (別のデータセットで妥当かどうかを評価する); next chapter: model.evaluate on the test set",
    "explain": "2-2 深層学習の流れ (逆伝播 backward propagation: the gradient of a class score); 3-2 畳み込み層 (特徴量マップ)",
}

_KEEP_LINES = ("\\b", "\b")
#: What Rich reads as a markup tag: "[" and a lower-case letter, "#", "/" or "@", up to "]".
_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def course_line(command: str) -> str:
    """The line of a command's help that names its course section.

    Examples
    --------
    >>> course_line("pool")
    'Course: 3-3 プーリング層 (最大値プーリング, max pooling)'
    """
    return f"Course: {COURSE_SECTIONS[command]}"


def flow(text: str) -> str:
    r"""Join each paragraph's lines into one, except paragraphs whose first line is ``\b``.

    The marker is Click's: ``\b`` typed in a raw docstring, or the backspace character.

    Examples
    --------
    >>> print(flow("One\nparagraph.\n\n\\b\nnnkit a\nnnkit b"))
    One paragraph.
    <BLANKLINE>
    nnkit a
    nnkit b
    """
    kept = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        first, _, rest = paragraph.partition("\n")
        if first.strip() in _KEEP_LINES:
            kept.append(rest)
        else:
            kept.append(" ".join(line.strip() for line in paragraph.splitlines()))
    return "\n\n".join(kept)


def plain(text: str) -> str:
    r"""Text that Rich prints as written: every ``[…]`` that could be read as a tag is escaped.

    Examples
    --------
    >>> print(plain("pip install 'nnkit-cli[medical]', brain[22:25], [1, 2]"))
    pip install 'nnkit-cli\[medical]', brain[22:25], [1, 2]
    """
    # Rich's own rule (rich.markup.escape), without importing Rich at every command's start-up
    escaped = _TAG.sub(lambda match: f"{match[1]}{match[1]}\\{match[2]}", text)
    return escaped + "\\" if escaped.endswith("\\") and not escaped.endswith("\\\\") else escaped


def prepare_help(command, name: str) -> None:
    """Give the click ``command`` of ``nnkit NAME`` nnkit's help layout (see the module's docstring)."""
    text = flow(command.help or "")
    first, _, rest = text.partition("\n\n")
    parts = [first]
    if name in COURSE_SECTIONS:
        parts.append(course_line(name))
    if rest:
        parts.append(rest)
    command.help = plain("\n\n".join(parts))
    command.short_help = plain(first)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = plain(param.help)
