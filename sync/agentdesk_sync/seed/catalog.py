"""The demo product catalogue and campaigns: Chinese titles, fees and per-channel talk scripts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from agentdesk.domain import Campaign, Channel, Offer, Segment

__all__ = ["EXTRAS", "PLANS", "Product", "campaigns_and_offers"]


@dataclass(frozen=True, slots=True)
class Product:
    """A sellable product: code, name, kind, fee and allowances."""

    code: str
    name: str
    kind: str
    fee: float
    data_mb: int = 0
    voice_min: int = 0


# plan products by brand
PLANS: dict[str, tuple[Product, ...]] = {
    "全球通": (
        Product("P-GT58", "全球通畅享套餐58元", "plan", 58, 10_240, 200),
        Product("P-GT88", "全球通畅享套餐88元", "plan", 88, 20_480, 300),
        Product("P-GT128", "全球通畅享套餐128元", "plan", 128, 30_720, 500),
        Product("P-GT188", "全球通尊享套餐188元", "plan", 188, 61_440, 800),
        Product("P-GT288", "全球通尊享套餐288元", "plan", 288, 102_400, 1500),
    ),
    "动感地带": (
        Product("P-MZ18", "动感地带芒果卡18元", "plan", 18, 5_120, 50),
        Product("P-MZ38", "动感地带潮玩卡38元", "plan", 38, 15_360, 100),
        Product("P-MZ58", "动感地带5G青春卡58元", "plan", 58, 30_720, 150),
    ),
    "神州行": (
        Product("P-EO8", "神州行0月租卡", "plan", 8, 500, 30),
        Product("P-EO19", "神州行大众卡19元", "plan", 19, 2_048, 100),
        Product("P-EO29", "神州行畅听卡29元", "plan", 29, 3_072, 300),
    ),
}
EXTRAS: tuple[Product, ...] = (
    Product("D-10G", "10GB流量加油包", "data_pack", 30, 10_240),
    Product("D-20G", "20GB流量月包", "data_pack", 50, 20_480),
    Product("B-300M", "家庭宽带300M", "broadband", 50),
    Product("B-1000M", "千兆家庭宽带", "broadband", 100),
    Product("V-CL", "视频彩铃", "value_added", 5),
    Product("V-HCY", "和彩云个人会员", "value_added", 10),
    Product("V-MIGU", "咪咕视频会员", "value_added", 15),
    Product("H-5G", "5G合约手机(24期)", "handset", 99),
    Product("C-24M", "24个月合约优惠", "contract", 0),
)

_SCRIPTS = {
    "outbound_call": (
        "您好，我是中国移动客户经理。看到您最近{why}，我们为您准备了「{title}」，每月{fee}，"
        "{benefit}。现在办理当月生效，您看需要帮您开通吗？"
    ),
    "inbound_call": (
        "感谢您的来电。另外温馨提示：根据您的使用情况，「{title}」更适合您，每月{fee}，{benefit}。"
        "需要我顺便为您办理吗？"
    ),
    "store": (
        "您好，根据您的账户情况，推荐您了解「{title}」：每月{fee}，{benefit}。可以现场办理，立即生效。"
    ),
    "field_visit": (
        "您好，这是为您专门申请的「{title}」方案，每月{fee}，{benefit}。合同我带来了，可以现在签。"
    ),
    "sms": "【中国移动】尊敬的客户，「{title}」每月仅{fee}，{benefit}。回复KT办理，回复TD退订。",
    "default": "推荐「{title}」：每月{fee}，{benefit}。",
}

# campaign id, name, kind, strategy, target group, segments, channels, priority, offers
_CAMPAIGNS = (
    ("K0001", "全球通套餐升档计划", "upsell", "流量超套客户升档", "中值实用及本地小康",
     ("SS3", "SS8", "SS1"), ("outbound_call", "inbound_call", "store", "sms"), 70,
     (("P-GT128", "升级全球通128元套餐", "流量多一倍，超出部分不再额外收费"),
      ("D-20G", "20GB流量月包", "月月多20GB，刷视频不心疼"),
      ("P-GT188", "升级全球通尊享188元", "享机场贵宾厅和专属客户经理"))),
    ("K0002", "动感地带青春流量季", "cross_sell", "年轻客户流量叠加", "高值时尚",
     ("SS2", "SS3"), ("outbound_call", "sms", "store", "inbound_call"), 50,
     (("D-10G", "10GB流量加油包", "当月有效，随用随加"),
      ("V-MIGU", "咪咕视频会员", "热门剧集和体育赛事随心看"))),
    ("K0003", "千兆宽带融合优惠", "cross_sell", "手机加宽带融合", "家庭客户",
     ("SS3", "SS4", "SS8", "SS9"), ("outbound_call", "store", "field_visit", "inbound_call"), 60,
     (("B-1000M", "千兆家庭宽带", "免费上门安装，送智能组网"),
      ("B-300M", "家庭宽带300M", "首年半价，光猫免费用"),
      ("V-HCY", "和彩云个人会员", "家庭照片自动备份"))),
    ("K0004", "5G换机季", "upsell", "4G老机用户换5G", "中高值客户",
     ("SS1", "SS2", "SS3", "SS8"), ("store", "outbound_call", "field_visit"), 55,
     (("H-5G", "5G合约手机", "24期免息，旧机抵扣最高1000元"),
      ("C-24M", "合约续约送流量", "续约24个月每月多送5GB"))),
    ("K0005", "高值客户挽留关怀", "retention", "高危客户分级挽留", "高值高危及高值外流",
     ("SS6", "SS7"), ("field_visit", "outbound_call", "phone", "inbound_call", "store"), 90,
     (("C-24M", "忠诚客户专享话费折扣", "在网满24个月每月话费立减30元"),
      ("V-HCY", "积分翻倍及和彩云会员", "积分翻倍兑换，会员免费用一年"),
      ("P-GT128", "专属保号套餐", "原套餐权益不变，月费更低"))),
    ("K0006", "合约到期续约", "retention", "合约到期前续约", "合约即将到期客户",
     (), ("outbound_call", "store", "sms", "field_visit"), 80,
     (("C-24M", "续约24个月送流量", "续约即送每月5GB流量"),
      ("D-20G", "续约加享20GB月包", "续约客户半价订购"))),
    ("K0007", "视频彩铃及会员推广", "cross_sell", "增值业务渗透", "大众客户",
     ("SS3", "SS4", "SS5", "SS9"), ("sms", "inbound_call", "store"), 30,
     (("V-CL", "视频彩铃", "首月免费，打电话先看视频"),
      ("V-MIGU", "咪咕视频会员", "首月1元"))),
    ("K0008", "中国移动APP电子渠道引导", "e_channel", "引导自助办理", "低值休眠及传统节俭",
     ("SS5", "SS9", "SS4"), ("sms", "inbound_call", "store"), 20,
     (("D-10G", "APP签到送10GB流量", "首次登录中国移动APP即送"),
      ("V-HCY", "APP专享和彩云", "APP内一键开通"))),
)  # fmt: skip
_WHY = {
    "upsell": "流量经常超出套餐",
    "cross_sell": "经常使用流量和视频业务",
    "retention": "在网时间很长，是我们的重要客户",
    "e_channel": "经常到营业厅办理简单业务",
}


def _scripts(title: str, fee: float, benefit: str, kind: str) -> dict[str, str]:
    fee_text = f"{fee:g}元" if fee else "不加钱"
    why = _WHY.get(kind, "使用习惯很稳定")
    return {
        channel: text.format(title=title, fee=fee_text, benefit=benefit, why=why)
        for channel, text in _SCRIPTS.items()
    }


def campaigns_and_offers(anchor: datetime) -> tuple[list[Campaign], list[Offer]]:
    """The demo campaigns (valid around ``anchor``) and their 2–4 offers each."""
    products = {p.code: p for plans in PLANS.values() for p in plans} | {p.code: p for p in EXTRAS}
    campaigns: list[Campaign] = []
    offers: list[Offer] = []
    for index, row in enumerate(_CAMPAIGNS):
        cid, name, kind, strategy, group, segments, channels, priority, items = row
        start = anchor - timedelta(days=30 + 5 * index)
        campaigns.append(
            Campaign(
                campaign_id=cid, name=name, channels=tuple(Channel(c) for c in channels),
                strategy=strategy, target_group=group, valid_from=start,
                valid_to=anchor + timedelta(days=60 + 10 * index),
                created_at=start - timedelta(days=7),
                priority=priority, kind=kind,
            )
        )  # fmt: skip
        for number, (code, title, benefit) in enumerate(items, start=1):
            product = products[code]
            offers.append(
                Offer(
                    offer_id=f"O{index + 1:02d}{number:02d}", campaign_id=cid, title=title,
                    product_code=code, monthly_fee=product.fee, description=benefit,
                    scripts=_scripts(title, product.fee, benefit, kind),
                    eligible_segments=tuple(Segment(s) for s in segments),
                    excludes_product=code, base_propensity=round(0.04 + 0.02 * number, 2),
                    value=round(product.fee * 0.6 + 10, 1),
                )
            )  # fmt: skip
    return campaigns, offers
