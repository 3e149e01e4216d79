"""The evaluation journal: chunks read back in order, a torn last line cut off, other inputs another journal."""

from rewardkit.data.schemas import Sample
from rewardkit.evaluation.resumable import journal_for, journaling

SAMPLES = [Sample.from_text("Q", str(i)) for i in range(6)]


def test_a_torn_last_line_is_cut_and_the_next_chunk_follows(tmp_path):
    with journaling(tmp_path, "m", resume=False):
        journal = journal_for("samples", SAMPLES, 2)
        journal.add({"rewards": [1.0, 2.0]})
        journal.add({"rewards": [float("nan"), 4.0]})
    with journal.path.open("a") as handle:
        handle.write('{"rewards": [5.0')  # killed while writing
    with journaling(tmp_path, "m", resume=True):
        again = journal_for("samples", SAMPLES, 2)
        chunks = again.chunks()
        assert [c["rewards"][1] for c in chunks] == [2.0, 4.0] and chunks[1]["rewards"][0] != chunks[1]["rewards"][0]
        again.add({"rewards": [5.0, 6.0]})
        assert [c["rewards"] for c in journal_for("samples", SAMPLES, 2).chunks()][2] == [5.0, 6.0]


def test_other_inputs_model_or_identity_have_other_journals(tmp_path):
    with journaling(tmp_path, "m", resume=True, identity="a"):
        paths = {journal_for("samples", SAMPLES, 2).path, journal_for("samples", SAMPLES[:5], 2).path,
                 journal_for("samples", SAMPLES, 3).path, journal_for("pairs", SAMPLES, 2).path}
    with journaling(tmp_path, "m", resume=True, identity="b"):
        paths.add(journal_for("samples", SAMPLES, 2).path)
    with journaling(tmp_path, "other", resume=True, identity="a"):
        paths.add(journal_for("samples", SAMPLES, 2).path)
    assert len(paths) == 6
    assert journal_for("samples", SAMPLES, 2) is None  # outside `journaling` (the Python API): no journal


def test_without_resume_a_journal_starts_afresh(tmp_path):
    with journaling(tmp_path, "m", resume=False):
        journal_for("samples", SAMPLES, 2).add({"rewards": [1.0, 2.0]})
        fresh = journal_for("samples", SAMPLES, 2)
        assert fresh.chunks() == []
        fresh.add({"rewards": [3.0, 4.0]})
    with journaling(tmp_path, "m", resume=True):
        assert [c["rewards"] for c in journal_for("samples", SAMPLES, 2).chunks()] == [[3.0, 4.0]]
