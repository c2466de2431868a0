"""Copy Debian's WordNet 3.0 (``wordnet-base``) where NLTK reads it: ``<venv>/nltk_data/corpora/wordnet``.

NLTK refuses to read /usr/share/wordnet in place: it wants the files under an ``nltk_data`` folder
together with a ``lexnames`` file, which Debian does not ship. Run ``python -m anit.noise.wordnet_setup``
(``make setup`` does) after ``apt-get install wordnet-base wordnet-sense-index``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

SOURCE = Path("/usr/share/wordnet")
FILES = ("adj.exc", "adv.exc", "cntlist.rev", "data.adj", "data.adv", "data.noun", "data.verb", "index.adj",
         "index.adv", "index.noun", "index.sense", "index.verb", "noun.exc", "verb.exc")
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location noun.motive "
    "noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process noun.quantity "
    "noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change verb.cognition "
    "verb.communication verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_POS_NUMBER = {"adj": 3, "adv": 4, "noun": 1, "verb": 2}


def lexnames_text() -> str:
    return "".join(f"{i:02d}\t{name}\t{_POS_NUMBER[name.split('.')[0]]}\n" for i, name in enumerate(LEXNAMES))


def install(source: Path = SOURCE, nltk_data: Path | None = None) -> Path:
    target = (nltk_data or Path(sys.prefix) / "nltk_data") / "corpora" / "wordnet"
    missing = [name for name in FILES if not (source / name).exists()]
    if missing:
        raise SystemExit(f"WordNet files missing under {source}: {', '.join(missing)}; "
                         "install them with: apt-get install wordnet-base wordnet-sense-index")
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(source / name, target / name)
    (target / "lexnames").write_text(lexnames_text(), encoding="ascii")
    return target


if __name__ == "__main__":
    print(f"WordNet installed for NLTK at {install()}")
