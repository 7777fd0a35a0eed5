"""Phrase pools for the demo stream: realistic Chinese e-commerce and social posts.

Texts are composed from an opener, one or two aspect phrases and a closer, so
that thousands of mentions read differently (a stream of identical templates
would rightly be flagged as a paid-posting campaign by the trust checks).
"""

from __future__ import annotations

# Per aspect: (positive phrases, negative phrases).
ASPECT_PHRASES: dict[str, tuple[list[str], list[str]]] = {
    "质量": (
        [
            "做工很精致，用料扎实",
            "质量不错，用了一个月没毛病",
            "手感很好，细节处理到位",
            "品质对得起这个价",
            "音质清楚，低音也有力度",
            "续航很给力，一天一充足够",
            "屏幕显示细腻，看着舒服",
        ],
        [
            "质量一般，用了两周就出问题",
            "做工粗糙，边缘有毛刺",
            "用了几天就断连，很影响体验",
            "按键松动，做工太差了",
            "续航虚标，半天就没电",
            "屏幕有坏点，品控不行",
        ],
    ),
    "物流": (
        ["物流很快，第二天就到了", "快递小哥很负责，送货上门", "发货及时，包裹完好", "隔天达，速度没得说"],
        ["物流太慢了，等了一个星期", "快递一直不更新，催了也没用", "发货拖了五天才发", "配送延迟，约好的时间没送到"],
    ),
    "客服": (
        ["客服态度很好，耐心解答", "客服回复很及时，问题很快解决", "咨询客服很热情，推荐得很专业"],
        ["客服半天不回复", "客服态度很差，爱答不理", "问了三次客服都是机器人回复，解决不了问题"],
    ),
    "价格": (
        ["性价比很高，活动价很划算", "价格实惠，比实体店便宜", "这个价位里算很好的了"],
        ["价格偏贵，不值这个钱", "刚买就降价了，也不给保价", "比别家贵了不少"],
    ),
    "包装": (
        ["包装很严实，没有磕碰", "包装精美，送人很有面子"],
        ["包装破损，盒子都压扁了", "包装太简陋，连个防震都没有"],
    ),
    "售后": (
        ["售后很靠谱，换货很顺利", "七天无理由退货很痛快"],
        ["售后推来推去，退货太麻烦", "申请退款一周了还没处理", "保修说好上门，结果一直没人来"],
    ),
    "描述不符": (
        ["和描述的一样，没有色差"],
        ["和描述的不一样，颜色差很多", "怀疑是假货，和专柜的不一样", "宣传的功能根本没有"],
    ),
}

NEUTRAL_PHRASES = [
    "刚收到，还没怎么用，用几天再来评价",
    "和之前那款差不多",
    "还行吧，中规中矩",
    "请问还有优惠吗",
    "有没有人知道怎么开发票",
    "看了测评来的，先观望一下",
    "先买一次试试",
    "已经下单了，等收货",
]

OPENERS = [
    "",
    "",
    "刚买的{product}，",
    "{product}到手一周了，",
    "第二次购买了，",
    "说实话，",
    "入手{product}，",
    "给家里人买的{product}，",
    "对比了好几家才买的，",
    "用了一段时间来评价一下，",
]
POSITIVE_CLOSERS = ["", "推荐购买！", "总体很满意。", "会回购的。", "好评！", "五星好评。", "值得入手。"]
NEGATIVE_CLOSERS = ["", "不会再买了。", "大家慎重。", "很失望。", "希望商家重视。", "差评。", "要求退货。"]
WEIBO_POSITIVE_TAGS = ["[赞]", "[哈哈]", "[good]", "[心]", ""]
WEIBO_NEGATIVE_TAGS = ["[怒]", "[泪]", "[失望]", "[抓狂]", ""]

# The seeded crisis: a burst of safety complaints about one product and one aspect.
CRISIS_PHRASES = [
    "{product}充着充着就发烫，烫得不敢拿",
    "{product}电池鼓包了，太吓人了",
    "用了三天{product}发热严重，还有焦味",
    "同一批次的{product}都有发热问题，大家注意安全",
    "{product}充电时突然冒烟，差点起火",
    "{product}放在包里发烫，电池是不是有问题",
    "{product}发热到能煎鸡蛋，这是什么质量",
    "新买的{product}一充电就烫手，不敢再用了",
    "{product}电池发热，客服让我自己观察，这是什么态度",
]
CRISIS_ESCALATIONS = [
    "孩子手被烫伤了，必须给个说法",
    "已经向12315投诉了",
    "准备找律师起诉",
    "已经联系记者曝光",
    "集体维权群已经两百多人了",
    "要求召回这批产品",
    "市场监管局必须管一管",
]

# A second, milder incident: deliveries running late for the grocery brand.
DELAY_PHRASES = [
    "约好上午送达，下午三点还没到",
    "配送延迟两个小时，菜都不新鲜了",
    "{product}又迟到了，冷冻的都化了",
    "订单显示配送中，等了一整天",
    "物流太慢，晚饭都做不成了",
]

# The competitors' own stories (collectors/demo/stream.py, RIVALS): an after-sales breakdown for
# the earphone maker's rival, spoiled produce for the grocer's.
SERVICE_PHRASES = [
    "{product}返修一个月了还没寄回来",
    "售后电话打了十几次都没人接",
    "申请退款两周了，客服只会说在处理",
    "保修期内坏了，售后非要我自己出维修费",
    "客服把我的工单关了，问题根本没解决",
]
SPOILED_PHRASES = [
    "送来的草莓一半都烂了，质量太差",
    "{product}买的牛奶已经过期了",
    "青菜全是黄叶子，品质太差了",
    "肉有异味，根本不新鲜",
    "鸡蛋碎了三个，水果也坏了",
]

ENGLISH_POSITIVE = [
    "Great sound and the battery lasts all day.",
    "Fast delivery, works perfectly.",
    "Love it, excellent value for money.",
]
ENGLISH_NEGATIVE = [
    "Stopped working after a week, very disappointed.",
    "Customer support never replied.",
    "The power bank gets dangerously hot while charging!",
]
TRADITIONAL_POSITIVE = ["音質很好，物流也很快", "品質不錯，推薦購買", "客服態度很好"]
TRADITIONAL_NEGATIVE = ["充電寶發燙，太危險了", "客服一直不回覆，很失望", "物流太慢了"]

# Contact details customers really do paste into complaints; masked on display.
CONTACT_TAILS = ["有问题请联系我13812345678", "我的邮箱是 buyer.demo@example.com，请尽快回复"]

# Personal details people weave into reviews; they make each one its own text.
WHO = ["老婆", "老公", "爸妈", "孩子", "女朋友", "男朋友", "室友", "自己", "同事", "外婆"]
DURATIONS = ["两天", "三天", "一周", "十来天", "半个月", "三周", "一个月", "两个月", "大半年"]
SCENES = ["通勤路上", "健身的时候", "出差", "宿舍里", "办公室", "开车时", "晚上跑步", "上网课", "地铁上", "露营"]
OCCASIONS = ["618", "双十一", "年货节", "会员日", "开学季", "周末"]
COLOURS = ["星空灰", "月光白", "薄荷绿", "深海蓝", "樱花粉"]
CONTEXT_PHRASES = [
    "给{who}买的",
    "用了{duration}",
    "{scene}用",
    "{occasion}下单的",
    "颜色选的{colour}",
    "之前用的是别的牌子",
    "朋友推荐的",
    "看了B站测评才买",
    "{price}块入手",
    "等了{days}天才到",
    "第{nth}次在这家买",
    "{scene}用了{duration}",
    "{who}很喜欢",
]

# A paid-posting wave (刷单 / 好评返现): near-identical five-star texts from many accounts.
PAID_TEMPLATE = "{product}音质超级棒，物流超快，客服超贴心，强烈推荐大家购买！好评{tail}"
PAID_TAILS = ["！", "！！", "！！！", "~", "。"]
