"""Name material for the simulator: Chinese surnames and given-name characters, English first
names and surnames, company-name parts. Names are combined at random; any resemblance to a real
person or company is chance."""

from __future__ import annotations

# The most common Chinese surnames first (the simulator weights them by rank).
SURNAMES_ZH = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤"
)
GIVEN_ZH = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕鹏辉建国志文斌宇浩然子轩梓涵一诺欣怡思远晨阳佳琪雨桐博文俊杰天佑嘉怡婷雪慧颖琳晶莉倩婉欢"
    "鑫磊峰鹏飞宏亮海波振东晓光春梅秋菊冬雪德胜永福家乐"
)
FIRST_EN = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Emily", "Matthew", "Olivia", "Anthony", "Sophie", "Mark",
    "Grace", "Oliver", "Amelia", "Harry", "Isla", "Jack", "Ava", "George", "Chloe", "Wei",
    "Mei", "Kevin", "Michelle",
]  # fmt: skip
SURNAMES_EN = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Anderson", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
    "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Evans", "Roberts", "Green", "Baker",
    "Chan", "Wong", "Lee", "Tan", "Lim", "Ng", "Cheung", "Ho",
]  # fmt: skip
COMPANY_CITY_ZH = list("京沪粤苏浙川鲁闽湘鄂皖豫渝津")
COMPANY_WORD_ZH = [
    "华信", "恒通", "瑞丰", "鼎盛", "宏图", "嘉禾", "金鹏", "远航", "天成", "新源", "博远",
    "众合", "启明", "润达", "安泰", "永昌", "海纳", "中联", "盛世", "东方",
]  # fmt: skip
COMPANY_WORD_EN = [
    "Harbor", "Summit", "Redwood", "Bluewater", "Granite", "Northgate", "Silverline",
    "Brightpath", "Keystone", "Meridian", "Oakfield", "Riverside",
]  # fmt: skip

INDUSTRIES = {
    # code: (中文名 for company names, English word, risk effect on the log-odds)
    "manufacturing": ("制造", "Manufacturing", 0.10),
    "trade": ("商贸", "Trading", 0.20),
    "construction": ("建设工程", "Construction", 0.45),
    "logistics": ("物流", "Logistics", 0.15),
    "technology": ("科技", "Technology", -0.10),
    "agriculture": ("农业", "Agri", 0.30),
    "catering": ("餐饮管理", "Hospitality", 0.50),
    "energy": ("新能源", "Energy", -0.05),
    "healthcare": ("医疗", "Health", -0.20),
}
