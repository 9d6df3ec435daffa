from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation
from modeltranslation.utils import build_localized_fieldname

from delegation.models import AuthorityLimit, DecisionType
from empower.models import Employee, Role, Team

# A fixed default keeps the command idempotent: running it twice changes nothing.
DEFAULT_PASSWORD = "empower-demo"
ROLES = [
    ("agent", "Agent", 10),
    ("team_lead", "Team lead", 20),
    ("manager", "Manager", 30),
    ("director", "Director", 40),
]
TEAMS = ["Customer Care", "Returns", "Operations"]
# username, role, team, manager — in an order where each manager comes first.
PEOPLE = [
    ("dan", "director", "Operations", None),
    ("carol", "manager", "Operations", "dan"),
    ("bob", "team_lead", "Customer Care", "carol"),
    ("hank", "team_lead", "Returns", "carol"),
    ("alice", "agent", "Customer Care", "bob"),
    ("erin", "agent", "Customer Care", "bob"),
    ("frank", "agent", "Customer Care", "bob"),
    ("gina", "agent", "Returns", "hank"),
]
DECISION_TYPES = [
    ("refund", "Refund", 4),
    ("goodwill_credit", "Goodwill credit", 4),
    ("replacement", "Replacement", 8),
    ("fee_waiver", "Fee waiver", 8),
    ("expedited_shipping", "Expedited shipping", 8),
    ("wow", "Wow gesture", 4),  # the discretionary budget; each decision tells its story
]
# The seeded names in the other four languages (English is the name itself, and the fallback).
# Filled where still empty, so a translation edited in the admin is never overwritten.
NAMES = {
    # roles
    "agent": {"is": "Þjónustufulltrúi", "zh-hans": "客服专员", "ru": "Агент", "pl": "Agent"},
    "team_lead": {"is": "Teymisstjóri", "zh-hans": "组长", "ru": "Руководитель группы", "pl": "Lider zespołu"},
    "manager": {"is": "Deildarstjóri", "zh-hans": "经理", "ru": "Менеджер", "pl": "Kierownik"},
    "director": {"is": "Framkvæmdastjóri", "zh-hans": "总监", "ru": "Директор", "pl": "Dyrektor"},
    # teams
    "Customer Care": {"is": "Þjónustuver", "zh-hans": "客户服务", "ru": "Служба поддержки", "pl": "Obsługa klienta"},
    "Returns": {"is": "Vöruskil", "zh-hans": "退货", "ru": "Возвраты", "pl": "Zwroty"},
    "Operations": {"is": "Rekstur", "zh-hans": "运营", "ru": "Операции", "pl": "Operacje"},
    # decision types
    "refund": {"is": "Endurgreiðsla", "zh-hans": "退款", "ru": "Возврат денег", "pl": "Zwrot pieniędzy"},
    "goodwill_credit": {"is": "Velvildarinneign", "zh-hans": "善意补偿", "ru": "Компенсация", "pl": "Rekompensata"},
    "replacement": {"is": "Ný vara í staðinn", "zh-hans": "换货", "ru": "Замена товара", "pl": "Wymiana"},
    "fee_waiver": {
        "is": "Niðurfelling gjalds",
        "zh-hans": "免除费用",
        "ru": "Отмена сбора",
        "pl": "Zwolnienie z opłaty",
    },
    "expedited_shipping": {
        "is": "Hraðsending",
        "zh-hans": "加急配送",
        "ru": "Ускоренная доставка",
        "pl": "Ekspresowa wysyłka",
    },
    "wow": {"is": "Vá-glaðningur", "zh-hans": "惊喜举动", "ru": "Вау-жест", "pl": "Gest wow"},
}
# What each type is for, in every language.
DESCRIPTIONS = {
    "refund": {
        "en": "Money back to the customer for a faulty or missing product.",
        "is": "Endurgreiðsla til viðskiptavinar vegna gallaðrar eða týndrar vöru.",
        "zh-hans": "因产品有缺陷或丢失而退还给客户的款项。",
        "ru": "Возврат денег клиенту за неисправный или утерянный товар.",
        "pl": "Zwrot pieniędzy klientowi za wadliwy lub zagubiony produkt.",
    },
    "goodwill_credit": {
        "en": "A credit on the customer's account to make up for a poor experience.",
        "is": "Inneign á reikningi viðskiptavinar til að bæta fyrir slæma upplifun.",
        "zh-hans": "为弥补不佳体验而给客户账户的补偿额度。",
        "ru": "Кредит на счёт клиента в качестве компенсации за плохой опыт.",
        "pl": "Środki na koncie klienta jako rekompensata za złe doświadczenie.",
    },
    "replacement": {
        "en": "A new product sent in place of a faulty one.",
        "is": "Ný vara send í stað gallaðrar.",
        "zh-hans": "寄出新产品以替换有缺陷的产品。",
        "ru": "Новый товар взамен неисправного.",
        "pl": "Nowy produkt wysłany w miejsce wadliwego.",
    },
    "fee_waiver": {
        "en": "A fee the customer would owe, waived.",
        "is": "Gjald sem viðskiptavinur skuldar, fellt niður.",
        "zh-hans": "免除客户应付的费用。",
        "ru": "Отмена сбора, который клиент должен был бы оплатить.",
        "pl": "Umorzenie opłaty, którą klient byłby winien.",
    },
    "expedited_shipping": {
        "en": "Faster delivery at our cost.",
        "is": "Hraðari afhending á okkar kostnað.",
        "zh-hans": "由我们承担费用的加急配送。",
        "ru": "Более быстрая доставка за наш счёт.",
        "pl": "Szybsza dostawa na nasz koszt.",
    },
    "wow": {
        "en": "A gesture beyond what is owed, from your own discretionary budget, to put things right.",
        "is": "Glaðningur umfram það sem ber, af þínu eigin svigrúmi, til að bæta úr.",
        "zh-hans": "超出应尽义务的心意之举，使用你自己的自主预算来弥补。",
        "ru": "Жест сверх положенного, из вашего собственного бюджета, чтобы всё исправить.",
        "pl": "Gest ponad to, co się należy, z Twojego własnego budżetu, by naprawić sytuację.",
    },
}
# The guidance beside the decision form, in every language: field → language → text.
GUIDANCE = {
    "refund": {
        "purpose": {
            "en": "Give the money back when the product failed us, not the customer.",
            "is": "Endurgreiddu þegar varan brást, ekki viðskiptavinurinn.",
            "zh-hans": "当问题出在产品而不是客户时，把钱退给客户。",
            "ru": "Верните деньги, когда подвёл товар, а не клиент.",
            "pl": "Oddaj pieniądze, gdy zawiódł produkt, a nie klient.",
        },
        "good_examples": {
            "en": "A kettle that stopped working in its second week.\nA parcel the carrier confirms was lost.",
            "is": "Ketill sem hætti að virka í annarri viku.\nSending sem flutningsaðilinn staðfestir að hafi týnst.",
            "zh-hans": "第二周就坏了的水壶。\n承运商确认丢失的包裹。",
            "ru": "Чайник, сломавшийся на второй неделе.\nПосылка, утерю которой подтвердил перевозчик.",
            "pl": (
                "Czajnik, który przestał działać w drugim tygodniu.\nPaczka, której zgubienie potwierdził przewoźnik."
            ),
        },
        "rationale_hint": {
            "en": "What was wrong, how you checked it, and why a refund rather than a replacement.",
            "is": "Hvað var að, hvernig þú kannaðir það og hvers vegna endurgreiðsla frekar en ný vara.",
            "zh-hans": "出了什么问题，你如何核实，以及为什么退款而不是换货。",
            "ru": "Что было не так, как вы это проверили и почему возврат денег, а не замена.",
            "pl": "Co było nie tak, jak to sprawdzono i dlaczego zwrot pieniędzy, a nie wymiana.",
        },
    },
    "goodwill_credit": {
        "purpose": {
            "en": "Say sorry in a way the customer feels, when we let them down.",
            "is": "Biðjist afsökunar svo viðskiptavinurinn finni það, þegar við brugðumst honum.",
            "zh-hans": "当我们让客户失望时，用客户能感受到的方式道歉。",
            "ru": "Извинитесь так, чтобы клиент это почувствовал, когда мы его подвели.",
            "pl": "Przeproś tak, by klient to poczuł, gdy go zawiedliśmy.",
        },
        "good_examples": {
            "en": "A delivery three days late for a birthday present.",
            "is": "Afmælisgjöf sem kom þremur dögum of seint.",
            "zh-hans": "生日礼物晚到了三天。",
            "ru": "Подарок ко дню рождения доставлен на три дня позже.",
            "pl": "Prezent urodzinowy dostarczony trzy dni za późno.",
        },
        "rationale_hint": {
            "en": "What went wrong for the customer, and why this amount fits it.",
            "is": "Hvað fór úrskeiðis hjá viðskiptavininum og hvers vegna þessi upphæð hæfir því.",
            "zh-hans": "客户遇到了什么问题，以及为什么这个金额合适。",
            "ru": "Что пошло не так для клиента и почему эта сумма соответствует случаю.",
            "pl": "Co poszło nie tak dla klienta i dlaczego ta kwota jest odpowiednia.",
        },
    },
    "replacement": {
        "purpose": {
            "en": "Send a new product when the one the customer has is faulty and they still want it.",
            "is": "Sendu nýja vöru þegar varan er gölluð og viðskiptavinurinn vill hana enn.",
            "zh-hans": "当客户手中的产品有缺陷而他们仍想要时，寄出新产品。",
            "ru": "Отправьте новый товар, когда полученный неисправен, а клиенту он всё ещё нужен.",
            "pl": "Wyślij nowy produkt, gdy otrzymany jest wadliwy, a klient nadal go chce.",
        },
        "good_examples": {
            "en": "A blender whose jug arrived cracked.",
            "is": "Blandari sem kom með sprunginni könnu.",
            "zh-hans": "搅拌机的杯子到货时已经裂了。",
            "ru": "Блендер, у которого чаша пришла треснутой.",
            "pl": "Blender, którego dzbanek przyszedł pęknięty.",
        },
        "rationale_hint": {
            "en": "What is faulty, and whether the faulty one comes back to us.",
            "is": "Hvað er gallað og hvort gallaða varan kemur aftur til okkar.",
            "zh-hans": "哪里有缺陷，以及有缺陷的产品是否退回给我们。",
            "ru": "Что неисправно и вернётся ли неисправный товар к нам.",
            "pl": "Co jest wadliwe i czy wadliwy produkt wraca do nas.",
        },
    },
    "fee_waiver": {
        "purpose": {
            "en": "Waive a fee when it arose from our mistake or would be unfair to charge.",
            "is": "Felldu niður gjald sem stafar af mistökum okkar eða væri ósanngjarnt að innheimta.",
            "zh-hans": "当费用源于我们的失误或收取不公平时，免除该费用。",
            "ru": "Отмените сбор, если он возник по нашей ошибке или брать его несправедливо.",
            "pl": "Umórz opłatę, gdy wynikła z naszego błędu lub jej pobranie byłoby niesprawiedliwe.",
        },
        "good_examples": {
            "en": "A late-payment fee after our invoice went to the wrong address.",
            "is": "Vanskilagjald eftir að reikningurinn okkar fór á rangt heimilisfang.",
            "zh-hans": "我们的发票寄错地址后产生的滞纳金。",
            "ru": "Пени за просрочку, когда наш счёт ушёл не по тому адресу.",
            "pl": "Opłata za zwłokę, gdy nasza faktura trafiła pod zły adres.",
        },
        "rationale_hint": {
            "en": "Which fee, and why the customer should not pay it.",
            "is": "Hvaða gjald og hvers vegna viðskiptavinurinn á ekki að greiða það.",
            "zh-hans": "哪项费用，以及为什么客户不应支付。",
            "ru": "Какой сбор и почему клиент не должен его платить.",
            "pl": "Jaka opłata i dlaczego klient nie powinien jej płacić.",
        },
    },
    "expedited_shipping": {
        "purpose": {
            "en": "Send it faster at our cost when a delay of ours would make the customer miss a date.",
            "is": "Sendu hraðar á okkar kostnað þegar töf okkar léti viðskiptavininn missa af dagsetningu.",
            "zh-hans": "当我们的延误会让客户错过日期时，由我们承担费用加急寄出。",
            "ru": "Отправьте быстрее за наш счёт, если из-за нашей задержки клиент не успеет к сроку.",
            "pl": "Wyślij szybciej na nasz koszt, gdy przez nasze opóźnienie klient nie zdążyłby na czas.",
        },
        "good_examples": {
            "en": "A replacement school uniform needed before term starts on Monday.",
            "is": "Nýr skólabúningur sem þarf fyrir skólabyrjun á mánudag.",
            "zh-hans": "周一开学前需要的替换校服。",
            "ru": "Замена школьной формы, нужной до начала четверти в понедельник.",
            "pl": "Zastępczy mundurek szkolny potrzebny przed początkiem semestru w poniedziałek.",
        },
        "rationale_hint": {
            "en": "The date the customer needs it by, and why ordinary delivery would miss it.",
            "is": "Hvenær viðskiptavinurinn þarf vöruna og hvers vegna venjuleg sending næði því ekki.",
            "zh-hans": "客户需要的日期，以及为什么普通配送赶不上。",
            "ru": "К какому сроку это нужно клиенту и почему обычная доставка не успеет.",
            "pl": "Na kiedy klient tego potrzebuje i dlaczego zwykła dostawa nie zdąży.",
        },
    },
    "wow": {
        "purpose": {
            "en": "Surprise a customer for the better, without asking anyone: it is your budget.",
            "is": "Komdu viðskiptavini skemmtilega á óvart án þess að spyrja neinn: þetta er þitt svigrúm.",
            "zh-hans": "无需请示任何人，给客户一个惊喜：这是你自己的预算。",
            "ru": "Приятно удивите клиента, ни у кого не спрашивая: это ваш бюджет.",
            "pl": "Mile zaskocz klienta, nikogo nie pytając: to Twój budżet.",
        },
        "good_examples": {
            "en": "Flowers for a customer whose wedding order went wrong.\nA free upgrade for a loyal customer.",
            "is": (
                "Blóm til viðskiptavinar þar sem brúðkaupspöntunin fór úrskeiðis.\n"
                "Frí uppfærsla fyrir tryggan viðskiptavin."
            ),
            "zh-hans": "为婚礼订单出错的客户送花。\n为老客户免费升级。",
            "ru": "Цветы клиенту, чей свадебный заказ пошёл не так.\nБесплатное улучшение для постоянного клиента.",
            "pl": (
                "Kwiaty dla klienta, którego zamówienie ślubne się nie udało.\nDarmowe ulepszenie dla stałego klienta."
            ),
        },
        "rationale_hint": {
            "en": "Tell the story: what the customer needed and what you did.",
            "is": "Segðu söguna: hvað viðskiptavinurinn þurfti og hvað þú gerðir.",
            "zh-hans": "讲讲经过：客户需要什么，你做了什么。",
            "ru": "Расскажите историю: что было нужно клиенту и что вы сделали.",
            "pl": "Opowiedz historię: czego klient potrzebował i co zrobiłeś.",
        },
    },
}
D = Decimal
# role → type → (per decision, per day, per month, per customer per month); None is "no limit".
LIMITS = {
    "agent": {
        "refund": (D("100.00"), D("300.00"), D("2000.00"), D("200.00")),
        "goodwill_credit": (D("25.00"), D("100.00"), D("500.00"), D("50.00")),
        "replacement": (D("150.00"), D("450.00"), D("3000.00"), D("300.00")),
        "fee_waiver": (D("30.00"), D("150.00"), D("1000.00"), D("60.00")),
        "expedited_shipping": (D("20.00"), D("100.00"), D("800.00"), D("40.00")),
        "wow": (D("50.00"), None, D("300.00"), D("100.00")),
    },
    "team_lead": {
        "refund": (D("500.00"), D("1500.00"), D("10000.00"), D("1000.00")),
        "goodwill_credit": (D("100.00"), D("400.00"), D("2500.00"), D("200.00")),
        "replacement": (D("600.00"), D("2000.00"), D("12000.00"), D("1200.00")),
        "fee_waiver": (D("150.00"), D("600.00"), D("4000.00"), D("300.00")),
        "expedited_shipping": (D("80.00"), D("400.00"), D("3000.00"), D("160.00")),
        "wow": (D("200.00"), None, D("1500.00"), D("400.00")),
    },
    "manager": {
        "refund": (D("2000.00"), D("10000.00"), D("50000.00"), D("5000.00")),
        "goodwill_credit": (D("500.00"), D("2000.00"), D("12000.00"), D("1000.00")),
        "replacement": (D("2500.00"), D("12000.00"), D("60000.00"), D("6000.00")),
        "fee_waiver": (D("800.00"), D("3000.00"), D("20000.00"), D("1500.00")),
        "expedited_shipping": (D("300.00"), D("1500.00"), D("10000.00"), D("600.00")),
        "wow": (D("1000.00"), None, D("10000.00"), D("2000.00")),
    },
    "director": {code: (None, None, None, None) for code, _, _ in DECISION_TYPES},
}


class Command(BaseCommand):
    help = "Build the demo organization of the contract (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", help=f"Password for every demo login (default {DEFAULT_PASSWORD!r}).")
        parser.add_argument(
            "--with-examples",
            action="store_true",
            help="Also add a day's work (open cases, an escalation for bob, an answered survey): `make run` does.",
        )

    # Creates only what is missing: limits and people edited since (audited, through the app) stay as
    # they are, so `make run` never silently undoes a manager's change.
    def handle(self, *args, **options):
        # The names above are English: look them up and store them as English, whatever language the
        # caller had active (a test's last request may have left one; names are translated data).
        with translation.override(settings.MODELTRANSLATION_DEFAULT_LANGUAGE):
            self._seed(**options)

    @transaction.atomic
    def _seed(self, *, password: str | None = None, with_examples: bool = False, **options):
        password = password or DEFAULT_PASSWORD
        roles = {
            code: Role.objects.get_or_create(code=code, defaults={"name": name, "rank": rank})[0]
            for code, name, rank in ROLES
        }
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
        types = {
            code: DecisionType.objects.get_or_create(code=code, defaults={"name": name, "response_hours": hours})[0]
            for code, name, hours in DECISION_TYPES
        }
        for key, row in [*roles.items(), *teams.items(), *types.items()]:
            self._translate(row, "name", NAMES.get(key, {}))
        for code, row in types.items():
            self._translate(row, "description", DESCRIPTIONS.get(code, {}))
            for field, texts in GUIDANCE.get(code, {}).items():
                self._translate(row, field, texts)
        for role_code, per_type in LIMITS.items():
            for type_code, (per_decision, per_day, per_month, per_customer_month) in per_type.items():
                AuthorityLimit.objects.get_or_create(
                    role=roles[role_code],
                    decision_type=types[type_code],
                    defaults={
                        "per_decision": per_decision,
                        "per_day": per_day,
                        "per_month": per_month,
                        "per_customer_month": per_customer_month,
                        "reason": "Demo organization",
                    },
                )
        User = get_user_model()
        employees: dict[str, Employee] = {}
        for username, role_code, team_name, manager in PEOPLE:
            user = self._user(User, username, password, is_superuser=False)
            employees[username], _ = Employee.objects.get_or_create(
                user=user,
                defaults={
                    "role": roles[role_code],
                    "team": teams[team_name],
                    "parent": employees[manager] if manager else None,
                },
            )
        self._user(User, "admin", password, is_superuser=True)
        self.stdout.write("Demo organization ready. Logins (all share one password):")
        for username, role_code, team_name, _ in PEOPLE:
            self.stdout.write(f"  {username:<6} {role_code:<10} {team_name}")
        self.stdout.write("  admin  superuser  (Django admin)")
        self.stdout.write(f"Password: {password}")
        if with_examples:
            # By name: the examples answer a survey, and `delegation` never imports `feedback`.
            call_command("seed_demo_examples", stdout=self.stdout)

    def _translate(self, row, field: str, texts: dict[str, str]) -> None:
        """Fill `field` in each language of `texts` where it is still empty (never overwrite an edit)."""
        empty = {
            build_localized_fieldname(field, language): text
            for language, text in texts.items()
            if not getattr(row, build_localized_fieldname(field, language))
        }
        if empty:
            type(row).objects.filter(pk=row.pk).update(**empty)

    def _user(self, User, username: str, password: str, *, is_superuser: bool):
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        user.first_name = user.first_name or username.capitalize()
        user.is_staff = user.is_superuser = is_superuser
        user.is_active = True
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        return user
