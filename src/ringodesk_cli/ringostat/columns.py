"""Header aliases: the labels of call logs saved from Ringostat's web interface -> API names.

The exact column headers of the web export are **not documented** anywhere public
(Ringostat's documentation lists no column headers for the UI's CSV/XLSX export). The labels
below are our best reading of the call-log page and the
call-card page (HC en/articles/6416694: date, type, status, call duration, waiting time,
total duration, caller/destination, answering agent) in Russian, Ukrainian and English. A
header we do not know is kept under its own name, and the profile's `[source.columns]`
(header -> API field name) maps it; that table wins over this one.

The same goes for *values*: a web export may show "Входящий" instead of `in` or "Пропущен"
instead of `NO ANSWER`. The English status labels come from HC en/articles/6413217; the
Russian and Ukrainian ones are inferred and may need additions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ringodesk_cli.ringostat.catalogue import PARAMETERS


def normalise_label(label: str) -> str:
    """Case, spacing, BOM, quotes and a trailing colon do not matter in a header."""
    text = label.replace("\ufeff", "").strip().strip('"').strip()
    text = text.rstrip(":").replace("ё", "е").replace("Ё", "Е")
    return re.sub(r"\s+", " ", text).casefold()


_ALIASES_BY_FIELD: dict[str, tuple[str, ...]] = {
    "uniqueid": (
        "ID звонка",
        "Уникальный ID",
        "Уникальный идентификатор",
        "ID",
        "ID дзвінка",
        "Унікальний ID",
        "Унікальний ідентифікатор",
        "Call ID",
        "Unique ID",
        "Unique id of the call",
    ),
    "calldate": (
        "Дата",
        "Дата звонка",
        "Дата и время",
        "Время звонка",
        "Дата дзвінка",
        "Дата і час",
        "Час дзвінка",
        "Date",
        "Call date",
        "Date and time",
        "Call time",
    ),
    "call_type": (
        "Тип",
        "Тип звонка",
        "Направление",
        "Тип дзвінка",
        "Напрямок",
        "Type",
        "Call type",
        "Direction",
    ),
    "disposition": (
        "Статус",
        "Статус звонка",
        "Статус дзвінка",
        "Status",
        "Call status",
    ),
    "caller": (
        "Кто звонил",
        "Номер звонящего",
        "Звонящий",
        "Откуда",
        "Хто дзвонив",
        "Номер абонента",
        "Абонент",
        "Звідки",
        "Caller",
        "Caller number",
        "From",
    ),
    "dst": (
        "Куда звонили",
        "Номер назначения",
        "Куда",
        "Номер подмены",
        "Куди дзвонили",
        "Номер призначення",
        "Куди",
        "Номер підміни",
        "Destination",
        "Destination number",
        "To",
        "Called number",
    ),
    # HC 6416694 names the talk time "call duration" and the whole call "total duration".
    "billsec": (
        "Время разговора",
        "Длительность разговора",
        "Час розмови",
        "Тривалість розмови",
        "Talk time",
        "Call duration",
        "Conversation duration",
    ),
    "duration": (
        "Длительность",
        "Общая длительность",
        "Общее время",
        "Тривалість",
        "Загальна тривалість",
        "Загальний час",
        "Duration",
        "Total duration",
        "Total call duration",
    ),
    "waittime": (
        "Время ожидания",
        "Ожидание",
        "Час очікування",
        "Очікування",
        "Waiting time",
        "Wait time",
    ),
    "employee_fio": (
        "Сотрудник",
        "ФИО сотрудника",
        "Менеджер",
        "Ответивший сотрудник",
        "Співробітник",
        "ПІБ співробітника",
        "Працівник",
        "Employee",
        "Employee name",
        "Agent",
        "Answered by",
    ),
    "employee_number": ("Номер сотрудника", "Номер співробітника", "Employee number"),
    "connected_with": (
        "Соединен с",
        "С кем соединен",
        "З'єднано з",
        "Зʼєднано з",
        "Connected with",
    ),
    "recording": (
        "Запись",
        "Запись разговора",
        "Ссылка на запись",
        "Запис",
        "Запис розмови",
        "Посилання на запис",
        "Recording",
        "Call recording",
        "Record",
        "Recording link",
    ),
    "call_card": ("Карточка звонка", "Картка дзвінка", "Call card"),
    "client_id": ("Google Client ID", "Client ID", "GA Client ID", "ClientID"),
    "pool_name": ("Пул номеров", "Пул номерів", "Number pool", "Pool"),
    "scheme_name": ("Схема переадресации", "Схема переадресації", "Call forwarding scheme"),
    "department": ("Отдел", "Відділ", "Department"),
    "landing": ("Страница входа", "Посадочная страница", "Сторінка входу", "Landing page"),
    "refferrer": ("Реферер", "Источник перехода", "Джерело переходу", "Referrer", "Referer"),
    "remote_ip": ("IP клиента", "IP клієнта", "IP адрес", "IP адреса", "Client IP", "IP"),
    "category_mark": ("Категория", "Категорія", "Category"),
    "utm_source": ("UTM Source", "UTM источник", "UTM джерело", "Источник", "Джерело", "Source"),
    "utm_medium": ("UTM Medium", "UTM канал", "Канал", "Medium"),
    "utm_campaign": ("UTM Campaign", "UTM кампания", "UTM кампанія", "Кампания", "Кампанія"),
    "utm_term": ("UTM Term", "Ключевое слово", "Ключове слово", "Term"),
    "utm_content": ("UTM Content", "Содержание объявления", "Зміст оголошення", "Content"),
}

HEADER_ALIASES: dict[str, str] = {
    normalise_label(alias): field
    for field, aliases in _ALIASES_BY_FIELD.items()
    for alias in aliases
}


def resolve_headers(headers: Iterable[str], overrides: Mapping[str, str] = {}) -> list[str]:
    """The field name each header stands for, in order.

    Precedence: the profile's `[source.columns]`, then the API name itself, then the alias
    table; an unknown header keeps its own (stripped) text. When two headers land on one
    field, the first keeps it and the later one keeps its own text, so nothing is lost.
    """
    wanted = {normalise_label(str(k)): str(v).strip() for k, v in overrides.items()}
    api_names = {name.casefold(): name for name in PARAMETERS}
    taken: set[str] = set()
    result: list[str] = []
    for header in headers:
        key = normalise_label(header)
        field = wanted.get(key) or api_names.get(key) or HEADER_ALIASES.get(key)
        if field is None or field in taken:
            field = header.replace("\ufeff", "").strip()
        taken.add(field)
        result.append(field)
    return result


# Values a web export may show in place of API codes (normalised by `normalise_label`).
CALL_TYPE_VALUES: dict[str, str] = {
    normalise_label(k): v
    for k, v in {
        "Incoming": "in",
        "Inbound": "in",
        "Входящий": "in",
        "Вхідний": "in",
        "Outgoing": "out",
        "Outbound": "out",
        "Исходящий": "out",
        "Вихідний": "out",
        "Callback": "callback",
        "Обратный звонок": "callback",
        "Зворотний дзвінок": "callback",
    }.items()
}

DISPOSITION_VALUES: dict[str, str] = {
    normalise_label(k): v
    for k, v in {
        # English UI labels: HC en/articles/6413217.
        "No answer": "NO ANSWER",
        "Repeat call": "REPEATED",
        "Repeated call": "REPEATED",
        "Call forwarding scheme did not work": "NO-FORWARD",
        "No answer from a customer": "CLIENT NO ANSWER",
        "Forbidden destination": "FAILED FORBIDDEN DESTINATION",
        # Russian and Ukrainian labels: inferred, not confirmed.
        "Отвечен": "ANSWERED",
        "Принят": "ANSWERED",
        "Целевой": "PROPER",
        "Повторный": "REPEATED",
        "Не отвечен": "NO ANSWER",
        "Пропущен": "NO ANSWER",
        "Занято": "BUSY",
        "Ошибка": "FAILED",
        "Голосовая почта": "VOICEMAIL",
        "Відповів": "ANSWERED",
        "Прийнятий": "ANSWERED",
        "Цільовий": "PROPER",
        "Повторний": "REPEATED",
        "Без відповіді": "NO ANSWER",
        "Пропущений": "NO ANSWER",
        "Зайнято": "BUSY",
        "Помилка": "FAILED",
        "Голосова пошта": "VOICEMAIL",
        "В процессе": "IN PROGRESS",
        "В процесі": "IN PROGRESS",
    }.items()
}
