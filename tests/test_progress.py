import io

from pipeline.core import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_one_bar_naming_the_call_and_its_stage(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(progress.sys, "stderr", screen)
    seen = []
    for item in progress.calls(["a.wav", "b.mp3"], enabled=True):
        progress.stage("transcribe")
        seen.append(item)
    out = screen.getvalue()
    assert seen == ["a.wav", "b.mp3"]
    assert "analyzing a.wav" in out and "analyzing b.mp3" in out and "transcribe" in out and "2/2" in out
    progress.stage("after the batch")  # no bar any more: nothing happens
    assert "after the batch" not in screen.getvalue()


def test_no_bar_when_not_a_terminal_or_turned_off(monkeypatch):
    plain = io.StringIO()
    monkeypatch.setattr(progress.sys, "stderr", plain)
    assert list(progress.calls([1, 2], enabled=True)) == [1, 2]
    monkeypatch.setattr(progress.sys, "stderr", Terminal())
    assert list(progress.calls([1, 2], enabled=False)) == [1, 2]
    assert plain.getvalue() == ""
