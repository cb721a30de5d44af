"""What a client reads next to crisis resources when a risk rule fires.

Supportive and plain; it never names a condition or diagnoses, and it points to people who
can help right now.
"""

from __future__ import annotations

from rtserver.domain.screening.instrument import RiskLevel
from rtserver.domain.screening.text import Language, Text

_SUPPORT: dict[RiskLevel, Text] = {
    "urgent": Text(
        id=(
            "Terima kasih sudah menjawab dengan jujur. Beberapa jawaban Anda menunjukkan bahwa "
            "Anda mungkin sedang melalui masa yang sangat berat. Ini bukan diagnosis. Anda "
            "tidak harus menghadapinya sendirian: jika Anda merasa dalam bahaya, segera "
            "hubungi salah satu layanan di bawah ini."
        ),
        en=(
            "Thank you for answering honestly. Some of your answers tell us you may be going "
            "through a very hard time. This is not a diagnosis. You do not have to face this "
            "alone: if you feel you might be in danger, please contact one of the services "
            "below now."
        ),
    ),
    "elevated": Text(
        id=(
            "Terima kasih sudah menjawab. Jawaban Anda menunjukkan bahwa akhir-akhir ini "
            "keadaan terasa berat bagi Anda. Ini bukan diagnosis. Berbicara dengan seseorang "
            "dapat membantu, dan layanan di bawah ini siap membantu jika Anda membutuhkan "
            "dukungan sekarang."
        ),
        en=(
            "Thank you for answering. Your answers suggest things have felt heavy for you "
            "lately. This is not a diagnosis. Talking with someone can help, and the services "
            "below are there if you need support now."
        ),
    ),
}


def support_message(level: RiskLevel, lang: Language) -> str:
    return _SUPPORT[level].in_language(lang)
