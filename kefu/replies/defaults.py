"""The scripts every shop starts with: the 话术 of seed 000 §5 (开头, 议价, 补运费, 结束, 回复离线信息),
the 催付 approach of 000 §7 (verify address, quantity, style), and the texts other apps render by key.

Keys are stable: other apps call script_render(shop=…, key=…) and get the shop's edited text, or
this default when the shop deleted or never had it.
"""

from dataclasses import dataclass

from .enums import ScriptCategory as C


@dataclass(frozen=True)
class DefaultScript:
    key: str
    category: str
    title: str
    body: str


DEFAULT_SCRIPTS: tuple[DefaultScript, ...] = (
    DefaultScript("opening", C.OPENING, "开场问候",
                  "亲亲好，我是{店铺}的客服{客服}，很荣幸能成为您的形象顾问，请锁定我哦~我今天将为您全程服务哈~~"),
    DefaultScript("bargaining", C.BARGAINING, "议价回复",
                  "非常感谢您在众多店铺里选择了我们店，我们的承诺是，让任何一位购买我们产品的顾客，都真正感觉到物有所值。"),
    DefaultScript("shipping_fee", C.SHIPPING_FEE, "补运费",
                  "{运费} 补运费链接：{补运费链接} 麻烦您补运费的时候备注下事项和您的会员名字【比如：补运费-{买家昵称}】"),
    DefaultScript("payment_reminder", C.PAYMENT_REMINDER, "催付：核对订单",
                  "亲，您好，我是{店铺}的客服{客服}~看到您拍下的订单{订单号}还没有付款，跟您核对一下收货地址、数量和款式"
                  "是否都对呢？确认无误的话记得尽快付款哦，我们好为您安排发货~"),
    DefaultScript("offline_greeting", C.OFFLINE_GREETING, "回复离线留言",
                  "mm你好——我是{店铺}家的客服{客服}:)，您问的问题我来为您解答："),
    DefaultScript("closing", C.CLOSING, "结束语：求五星好评",
                  "在您收到宝贝后，检查试穿后满意的话，请给我们五星好评哦~~宝贝描述、服务态度、发货速度都请给满分哈，"
                  "感谢{买家昵称}的支持！"),
    DefaultScript("shipping.date", C.SHIPPING, "发货时间",
                  "亲，您的订单{订单号}我们会按正常发货时间为您发出，发货后可以在订单里查看{快递}物流单号哦~"),
    DefaultScript("shipping.tracking", C.SHIPPING, "物流查询",
                  "亲，您的订单{订单号}已经由{快递}发出，物流单号{物流单号}，请留意查收哦~"),
    DefaultScript("promised_answer", C.OTHER, "待查问题：承诺答复",
                  "亲，这个问题我需要帮您核实一下，核实后会在旺旺上第一时间回复您，请稍等哦~"),
    DefaultScript("order.cancel.unpaid", C.AFTER_SALES, "撤单：未付款",
                  "亲，订单{订单号}还没有付款，您直接在订单里关闭交易就可以啦，不会扣款的哦~"),
    DefaultScript("order.cancel.done", C.AFTER_SALES, "撤单：已处理",
                  "亲，您的订单{订单号}已经为您处理撤单，退款会原路退回，请留意查收，有问题随时找{客服}哦~"),
    # order.<kind>.<state> keys are rendered by kefu.orders.replies for order requests (PRE-5).
    DefaultScript("order.cancel.waiting_warehouse", C.AFTER_SALES, "撤单：已打单待仓库拦截",
                  "亲，您的订单{订单号}已经打单，我已经交给仓库找单拦截，处理结果出来后第一时间告诉您哦~"),
    DefaultScript("order.cancel.refused", C.AFTER_SALES, "撤单：已发货无法撤单",
                  "亲，您的订单{订单号}已经由{快递}发出，没办法直接撤单了，您可以拒签或收到后申请退货，"
                  "{客服}会全程帮您跟进哦~"),
    DefaultScript("apology", C.APOLOGY, "致歉",
                  "非常抱歉给您带来不好的体验，{买家昵称}，这边马上为您处理，请您放心~"),
    DefaultScript("complaint.soothe", C.COMPLAINT, "投诉安抚",
                  "{买家昵称}，非常理解您现在的心情，问题我已经记录下来，{客服}会全程跟进直到为您解决，请您相信我们~"),
)
DEFAULTS_BY_KEY = {d.key: d for d in DEFAULT_SCRIPTS}
