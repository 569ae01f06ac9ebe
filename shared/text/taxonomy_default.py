"""The default CX theme taxonomy shipped with the service (English, Arabic, dialects, Arabizi)."""

from __future__ import annotations

from shared.text.themes import Taxonomy, Theme


def _kw(block: str) -> tuple[str, ...]:
    """Keywords separated by commas or new lines."""
    return tuple(k.strip() for k in block.replace("\n", ",").split(",") if k.strip())


DEFAULT_TAXONOMY = Taxonomy(
    (
        Theme(
            "ease_of_use",
            "Ease of use",
            _kw("""
            easy, easier, easily, simple, intuitive, user friendly, userfriendly, confusing,
            confused,
            complicated, complex, hard to use, difficult, hassle, straightforward, seamless, clunky,
            سهل, سهله, سهولة, سهوله, صعب, صعبه, معقد, معقده, تعقيد, مريح, واضح, محير, لخبطة, لخبطه,
            sahl, sa3b, m3a2ad
        """),
        ),
        Theme(
            "product_quality",
            "Product quality",
            _kw("""
            quality, broken, broke, damaged, defective, faulty, cracked, scratch*, torn, fake,
            original,
            genuine, material, stitching, durable, flimsy, stopped working, fresh, stale, expired,
            taste*, tasty, delicious, raw, soggy, salty, bland, cold, undercooked, refurbished,
            used product,
            fits, fit, size*, shrank, premium, cheap quality, works perfectly, jawda,
            جودة, جوده, الجودة, خامة, خامه, مكسور, مكسوره, تالف, تالفه, مضروب, مشروخ, خربان,
            بايظ, تقليد,
            اصلي, طازج, طازة, بايت, ماسخ, مالح, نيء, منتهي الصلاحية, منتهيه الصلاحيه, طعم,
            طعمه, لذيذ,
            مقاس, المقاس, انكمش, يشتغل, خرب, عطلان, معطل, مطابق, صلاحية, صلاحيه
        """),
        ),
        Theme(
            "customer_service",
            "Customer service",
            _kw("""
            customer service, customer support, support, call center, call centre, hotline,
            helpdesk,
            agent, complaint*, on hold, hung up, hang up, chat bot, chatbot, live chat, reply,
            replied,
            respond*, response, answer*, email*, call back, escalat*, ticket, resolved, solved,
            refund*,
            warranty, return policy, picks up, pick up the phone, customer care, contact*,
            خدمة العملاء, خدمه العملاء, الدعم, الدعم الفني, كول سنتر, الكول سنتر, شكوى, شكوي, شكاوى,
            يرد, يردون, رد, ردهم, الرد, تواصل, اتصلت, اتصل, الشات, ايميل, الايميل, استرجاع,
            الاسترجاع,
            استرداد, تعويض, الضمان, ضمان, مشرف, خط, الخط, el service, customer service
        """),
        ),
        Theme(
            "staff_friendliness",
            "Staff friendliness",
            _kw("""
            staff, employee*, cashier, manager, waiter, waitress, sales guy, salesman, team, agent,
            rude, polite, friendly, unfriendly, welcoming, smile, smiling, respectful, arrogant,
            attitude, kind, patient, professional, unprofessional, helpful, unhelpful, guard, lady,
            موظف, موظفه, موظفين, الموظف, الموظفين, الموظفة, الموظفه, الكاشير, كاشير, المدير,
            البياع, طاقم,
            محترم, محترمين, لطيف, لطيفه, لطاف, بشوش, بشوشين, خلوق, وقح, قليل ذوق, قليل ادب,
            قليلين ادب,
            متعاون, متعاونين, متكبر, تعامل, التعامل, احترام, ابتسامه, staff, mowazaf, mo7taram,
            ta3amol,
        """),
        ),
        Theme(
            "speed_waiting",
            "Speed and waiting time",
            _kw("""
            wait*, queue*, line, slow*, fast*, quick*, speed*, forever, late, delay*, hours,
            minutes,
            mins, hrs, on hold, took ages, on time, early, long time, prompt, efficient, asap,
            انتظار, انتظرت, استنيت, ناطر, ننطر, طابور, الطابور, دور, بالدور, بطيء, بطء, بطيئ,
            بطئ, سريع, سريعه,
            سريعين, بسرعه, سرعه, السرعه, تأخير, تاخير, تأخر, تاخر, اتأخر, اتاخر, متاخر, متأخر,
            ساعه, ساعتين,
            ساعات, دقيقه, دقايق, وقت, يطول, طول, زحمه, فوري, sa3a, sa3ten, et2akhar, sari3, bati2
        """),
        ),
        Theme(
            "price_value",
            "Price and value",
            _kw("""
            price*, pricey, expensive, cheap, cheaper, affordable, overpriced, overcharg*, cost*,
            value, worth, money, fee, fees, charge*, discount*, offer*, deal, deals, promo*,
            coupon*,
            voucher*, rip off, ripoff, sar, aed, egp,
            سعر, السعر, اسعار, الاسعار, غالي, غاليه, غاليين, اغلى, رخيص, رخيصه, فلوس, ريال,
            جنيه, درهم,
            تكلفه, قيمه, يستاهل, يستحق, خصم, الخصم, عرض, العرض, عروض, كوبون, كود, رسوم, مبالغ,
            استغلال, ghali, ghalya, as3ar, se3r, flous
        """),
        ),
        Theme(
            "availability",
            "Availability",
            _kw("""
            out of stock, in stock, stock, available, unavailable, availability, sold out, ran out,
            restock*, not available, no stock, find anything, couldnt find, selection,
            متوفر, متوفره, غير متوفر, مش متوفر, مو متوفر, نفذ, نفدت, خلص, خلصت, خلصت الكميه, الكميه,
            موجود, مش موجود, مو موجود, ما لقيت, مالقيت, ستوك, توفر, mawgood, mawjood
        """),
        ),
        Theme(
            "delivery",
            "Delivery",
            _kw("""
            deliver*, shipping, shipped, shipment, courier, driver, rider, parcel, package*,
            tracking,
            arrive*, dispatch*, doorstep, order came, came late, aramex, dhl, packaging, box,
            توصيل, التوصيل, الدليفري, دليفري, ديليفري, مندوب, المندوب, شحن, الشحن, الشحنه,
            شحنه, الطرد,
            طرد, وصل, وصلت, وصلني, يوصل, توصل, الكابتن, السواق, التغليف, تغليف, الكرتون,
            delivery, el delivery, mandoob, wasal, twsel, tawseel
        """),
        ),
        Theme(
            "website_app",
            "Website or app",
            _kw("""
            app, apps, application, website, site, web, online, login, log in, logged out, password,
            update*, crash*, bug*, glitch*, checkout, check out, cart, payment page, page*, load*,
            notification*, interface, ui, dark mode, android, iphone, ios, search, filters, error,
            تطبيق, التطبيق, ابلكيشن, الابلكيشن, ابليكيشن, البرنامج, الموقع, موقع, تحديث,
            التحديث, يعلق,
            بيعلق, يهنج, السيستم, الحساب, حسابي, تسجيل الدخول, الباسورد, السله, الدفع, اشعارات,
            el app, app,
        """),
        ),
    )
)
