"""Word lists for the demo trust (``demo.trust``): names, streets and demographic weights.

Plain constants, no logic. Names are common in England and Wales for children born 2007-2023
and for their parents; they are combined at random, so no row describes a real person.
Ethnicity codes are the DfE main codes (CBDS); mixed backgrounds use MWBC/MWBA/MWAS/MOTH.
"""

from __future__ import annotations

# The lists are laid out by hand; one name a line would make them hard to read.
# fmt: off

# --- Children's forenames by name group: (girls, boys) --------------------------------------

FORENAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "british": (
        (
            "Olivia", "Amelia", "Isla", "Ava", "Ivy", "Freya", "Lily", "Florence", "Mia",
            "Willow", "Rosie", "Sophia", "Isabella", "Grace", "Daisy", "Sienna", "Poppy",
            "Elsie", "Emily", "Ella", "Evelyn", "Phoebe", "Evie", "Charlotte", "Harper",
            "Millie", "Matilda", "Ruby", "Isabelle", "Alice", "Maisie", "Ellie", "Layla",
            "Erin", "Jessica", "Holly", "Lucy", "Chloe", "Megan", "Hannah", "Scarlett",
            "Harriet", "Eleanor", "Imogen", "Lola", "Molly", "Bethany", "Katie", "Abigail",
            "Elizabeth", "Rebecca", "Jasmine", "Amber", "Niamh",
        ),
        (
            "Noah", "Oliver", "George", "Arthur", "Leo", "Harry", "Oscar", "Archie", "Henry",
            "Theodore", "Freddie", "Jack", "Charlie", "Theo", "Alfie", "Jacob", "Thomas",
            "Finley", "Arlo", "William", "Lucas", "Roman", "Tommy", "Isaac", "Teddy",
            "Alexander", "Luca", "Edward", "James", "Joshua", "Albie", "Elijah", "Max",
            "Mason", "Reuben", "Harrison", "Samuel", "Ethan", "Daniel", "Logan", "Jake",
            "Riley", "Toby", "Joseph", "Benjamin", "Callum", "Lewis", "Kai", "Jayden",
            "Matthew", "Frederick", "Louie",
        ),
    ),
    "welsh": (
        (
            "Cerys", "Ffion", "Seren", "Megan", "Carys", "Eira", "Nia", "Elin", "Lowri",
            "Mali", "Alys", "Catrin", "Efa", "Gwen", "Cadi", "Heledd", "Manon", "Lili",
            "Tegan", "Rhiannon", "Sioned", "Bethan", "Hanna", "Enfys", "Anwen",
        ),
        (
            "Dylan", "Rhys", "Osian", "Gethin", "Iestyn", "Ioan", "Cai", "Tomos", "Harri",
            "Macsen", "Elis", "Gruffydd", "Owain", "Rhodri", "Steffan", "Llŷr", "Siôn",
            "Deio", "Jac", "Morgan", "Aled", "Ifan", "Evan", "Celyn",
        ),
    ),
    "european": (
        (
            "Zuzanna", "Julia", "Zofia", "Hanna", "Maja", "Lena", "Oliwia", "Alicja",
            "Ioana", "Maria", "Elena", "Andreea", "Daria", "Natalia", "Emilia", "Viktoria",
            "Gabriela", "Sofia", "Beatriz", "Giulia",
        ),
        (
            "Jakub", "Antoni", "Filip", "Szymon", "Kacper", "Mateusz", "Andrei", "Luca",
            "David", "Stefan", "Ionut", "Matei", "Dominik", "Lukas", "Mihai", "Tomas",
            "Tiago", "Marco", "Nikola", "Oskar",
        ),
    ),
    "south_asian": (
        (
            "Aisha", "Maryam", "Zainab", "Fatima", "Hafsa", "Amira", "Inaya", "Khadija",
            "Safa", "Alishba", "Anaya", "Hana", "Zara", "Iqra", "Sumaya", "Mahnoor", "Eshal",
            "Nusaybah", "Raisa", "Tasnim",
        ),
        (
            "Muhammad", "Ibrahim", "Yusuf", "Hamza", "Ayaan", "Zayn", "Ali", "Musa", "Adam",
            "Rayyan", "Haris", "Zakariya", "Bilal", "Omar", "Harun", "Idris", "Ahmed", "Arham",
            "Sami", "Tahmid",
        ),
    ),
    "indian": (
        (
            "Priya", "Anaya", "Diya", "Saanvi", "Aria", "Kiara", "Myra", "Riya", "Simran",
            "Navya", "Ishani", "Jasleen", "Harleen", "Avni", "Meera", "Tara",
        ),
        (
            "Arjun", "Aarav", "Vihaan", "Reyansh", "Krish", "Dev", "Rohan", "Aryan", "Ishaan",
            "Kabir", "Jai", "Harjot", "Gurveer", "Sai", "Veer", "Nikhil",
        ),
    ),
    "african": (
        (
            "Amara", "Chioma", "Adaeze", "Esther", "Blessing", "Favour", "Ifeoma", "Precious",
            "Tiwa", "Abena", "Ama", "Zuri", "Nneka", "Deborah", "Ruth", "Kemi", "Temi",
            "Chidinma", "Hodan", "Ayaan",
        ),
        (
            "Chidi", "Emmanuel", "David", "Daniel", "Tobi", "Kofi", "Kwame", "Samuel",
            "Victor", "Ayo", "Femi", "Ebuka", "Tunde", "Joshua", "Michael", "Obinna", "Praise",
            "Abdirahman", "Mohamed", "Kelechi",
        ),
    ),
    "caribbean": (
        ("Aaliyah", "Jada", "Tia", "Shanice", "Kayla", "Imani", "Nia", "Keisha", "Maya", "Leah"),
        ("Tyrese", "Jaden", "Kai", "Malachi", "Isaiah", "Marcus", "Jermaine", "Elijah", "Ezra"),
    ),
    "chinese": (
        ("Mei", "Ying", "Xinyi", "Zixuan", "Yuxi", "Chloe", "Grace", "Jasmine", "Lily", "Ruby"),
        ("Wei", "Hao", "Jun", "Zihan", "Yichen", "Ethan", "Ryan", "Jayden", "Lucas", "Kevin"),
    ),
    "other": (
        ("Layla", "Noor", "Yasmin", "Sara", "Rania", "Lina", "Mariam", "Dunya", "Reem", "Maria"),
        ("Yousef", "Karim", "Ahmad", "Omar", "Mustafa", "Ali", "Ziad", "Hassan", "Rami", "Jose"),
    ),
}

# --- Adults' forenames (parents, carers, staff): (women, men) -------------------------------

ADULT_FORENAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "british": (
        (
            "Sarah", "Emma", "Laura", "Claire", "Gemma", "Rachel", "Kelly", "Nicola", "Lisa",
            "Amy", "Hayley", "Natalie", "Joanne", "Rebecca", "Victoria", "Jennifer", "Louise",
            "Charlotte", "Kirsty", "Stacey", "Danielle", "Samantha", "Helen", "Katie", "Jade",
            "Leanne", "Zoe", "Michelle", "Lauren", "Hannah", "Alison", "Karen",
        ),
        (
            "Daniel", "James", "Mark", "Paul", "Richard", "Lee", "Craig", "Stuart", "Matthew",
            "Andrew", "David", "Christopher", "Michael", "Steven", "Ben", "Thomas", "Adam",
            "Gareth", "Jamie", "Ryan", "Carl", "Dean", "Jonathan", "Robert", "Wayne", "Simon",
            "Neil", "Scott", "Ashley", "Liam", "Martin", "Peter",
        ),
    ),
    "welsh": (
        (
            "Siân", "Rhian", "Catrin", "Nia", "Bethan", "Ffion", "Lowri", "Angharad", "Ceri",
            "Rhiannon", "Elen", "Sioned", "Carys", "Meinir", "Delyth", "Gwenllian",
        ),
        (
            "Gareth", "Rhys", "Dafydd", "Huw", "Aled", "Geraint", "Owain", "Rhodri", "Iwan",
            "Dylan", "Gwyn", "Emyr", "Hywel", "Meirion", "Gethin", "Ieuan",
        ),
    ),
}

# --- Surnames by name group -----------------------------------------------------------------

SURNAMES: dict[str, tuple[str, ...]] = {
    "british": (
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
        "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
        "Hall", "Wood", "Jackson", "Clarke", "Harris", "Turner", "Hill", "Cooper", "Ward",
        "Morris", "Moore", "King", "Watson", "Baker", "Harrison", "Morgan", "Young", "Allen",
        "Mitchell", "Anderson", "Lee", "Bell", "Marshall", "Bailey", "Parker", "Cook",
        "Hughes", "Edwards", "Carter", "Phillips", "Shaw", "Lloyd", "Chapman", "Ellis",
        "Mason", "Fletcher", "Barnes", "Holmes", "Fox", "Knight", "Webb", "Pearce", "Dawson",
        "Mills", "Atkinson", "Whitmore", "Gibbons", "Hartley",
    ),
    "welsh": (
        "Jones", "Williams", "Davies", "Evans", "Thomas", "Roberts", "Lewis", "Hughes",
        "Morgan", "Griffiths", "Price", "Powell", "Pritchard", "Rees", "Howells", "Jenkins",
        "Morris", "James", "Owen", "Phillips", "Parry", "Watkins", "Bevan", "Lloyd",
        "Prosser", "Vaughan", "Meredith", "Pugh", "Probert", "Gwilliam", "ap Dafydd",
    ),
    "irish": (
        "Murphy", "Kelly", "O'Brien", "Byrne", "Ryan", "O'Connor", "Walsh", "Doyle",
        "McCarthy", "Gallagher", "Quinn", "Brennan",
    ),
    "european": (
        "Nowak", "Kaczmarek", "Mazur", "Krawczyk", "Wójcik", "Popescu", "Ionescu", "Popa",
        "Dumitru", "Stan", "Marin", "Kazlauskas", "Petrov", "Horváth", "Novák", "Rossi",
        "Ferreira", "Silva", "Santos", "Bianchi",
    ),
    "south_asian": (
        "Khan", "Hussain", "Ahmed", "Ali", "Akhtar", "Iqbal", "Mahmood", "Rashid", "Shah",
        "Rahman", "Uddin", "Miah", "Chowdhury", "Islam", "Malik", "Butt", "Javed", "Begum",
    ),
    "indian": (
        "Patel", "Singh", "Kaur", "Sharma", "Gill", "Sandhu", "Mistry", "Shah", "Sidhu",
        "Kumar", "Bains", "Dhillon", "Chauhan", "Joshi", "Parmar",
    ),
    "african": (
        "Okafor", "Adeyemi", "Okoro", "Mensah", "Boateng", "Osei", "Adebayo", "Eze", "Nwosu",
        "Ogunleye", "Asante", "Mwangi", "Abdi", "Mohamed", "Hassan", "Kamara", "Bangura",
    ),
    "caribbean": (
        "Campbell", "Brown", "Williams", "Thomas", "Francis", "Grant", "Reid", "Gordon",
        "Clarke", "Henry", "Bailey", "Stewart", "Johnson", "Richards",
    ),
    "chinese": (
        "Chen", "Wang", "Li", "Zhang", "Liu", "Wong", "Lam", "Cheung", "Ng", "Chan", "Lin",
        "Huang", "Yang", "Zhou",
    ),
    "other": (
        "Al-Sayed", "Haddad", "Karimi", "Ahmadi", "Rahimi", "Mahmoud", "Aziz", "Hamid",
        "Nasser", "Saleh", "Abbas", "Darwish", "Reyes", "Cruz",
    ),
}

# Which name groups a child of each DfE main ethnicity code draws forenames and surnames from.
ETHNICITY_NAME_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "WBRI": (("british",), ("british",)),
    "WIRI": (("british",), ("irish",)),
    "WOTH": (("european",), ("european",)),
    "MWBC": (("british", "caribbean"), ("british", "caribbean")),
    "MWBA": (("british", "african"), ("british", "african")),
    "MWAS": (("british", "south_asian", "indian"), ("british", "south_asian", "indian")),
    "MOTH": (("british", "other"), ("british", "other")),
    "AIND": (("indian",), ("indian",)),
    "APKN": (("south_asian",), ("south_asian",)),
    "ABAN": (("south_asian",), ("south_asian",)),
    "BAFR": (("african",), ("african",)),
    "BCRB": (("caribbean", "british"), ("caribbean",)),
    "CHNE": (("chinese",), ("chinese",)),
    "OOTH": (("other",), ("other",)),
    "NOBT": (("british",), ("british",)),
}

# Main ethnicity codes with their share of pupils. England: a diverse county town (about 58%
# White British, in line with Bedford); Wales: a market town in Monmouthshire.
ETHNICITY_ENGLAND: tuple[tuple[str, float], ...] = (
    ("WBRI", 0.58), ("WIRI", 0.01), ("WOTH", 0.10), ("MWBC", 0.03), ("MWBA", 0.01),
    ("MWAS", 0.02), ("MOTH", 0.02), ("AIND", 0.05), ("APKN", 0.05), ("ABAN", 0.03),
    ("BAFR", 0.04), ("BCRB", 0.02), ("CHNE", 0.01), ("OOTH", 0.02), ("NOBT", 0.01),
)
ETHNICITY_WALES: tuple[tuple[str, float], ...] = (
    ("WBRI", 0.89), ("WIRI", 0.005), ("WOTH", 0.03), ("MWBC", 0.01), ("MWAS", 0.01),
    ("MOTH", 0.01), ("AIND", 0.01), ("APKN", 0.005), ("BAFR", 0.01), ("CHNE", 0.005),
    ("OOTH", 0.005), ("NOBT", 0.01),
)

# Chance that a child of each background has English as an additional language. With the mixes
# above this gives about 19% EAL in the English schools and about 5% in the Welsh one.
EAL_RATE: dict[str, float] = {
    "WBRI": 0.005, "WIRI": 0.02, "WOTH": 0.6, "MWBC": 0.02, "MWBA": 0.2, "MWAS": 0.2,
    "MOTH": 0.15, "AIND": 0.5, "APKN": 0.6, "ABAN": 0.65, "BAFR": 0.45, "BCRB": 0.02,
    "CHNE": 0.7, "OOTH": 0.75, "NOBT": 0.1,
}

# Forenames that children often go by in a shorter or anglicised form.
PREFERRED_FORENAMES: dict[str, str] = {
    "Alexander": "Alex", "William": "Will", "Thomas": "Tom", "Benjamin": "Ben",
    "Samuel": "Sam", "Joshua": "Josh", "Joseph": "Joe", "Daniel": "Dan", "Matthew": "Matt",
    "Elizabeth": "Beth", "Isabella": "Bella", "Isabelle": "Izzy", "Charlotte": "Lottie",
    "Eleanor": "Nell", "Abigail": "Abi", "Jessica": "Jess", "Rebecca": "Becky",
    "Theodore": "Teddy", "Frederick": "Freddie", "Gruffydd": "Gruff", "Zuzanna": "Zuza",
    "Gabriela": "Gabi", "Mateusz": "Matt", "Yichen": "Ethan", "Zixuan": "Grace",
    "Xinyi": "Cindy", "Zihan": "Henry", "Muhammad": "Mo",
    "Harriet": "Hattie", "Katie": "Kate",
}

# --- Places ---------------------------------------------------------------------------------

STREETS_ENGLAND: tuple[str, ...] = (
    "Elm Road", "Church Lane", "Victoria Road", "Station Road", "Park Avenue", "The Crescent",
    "Mill Lane", "Queens Drive", "Kings Road", "Manor Way", "Orchard Close", "Meadow View",
    "Brook Street", "Windsor Road", "Castle Road", "Bromham Road", "Goldington Road",
    "Harrowden Road", "Chaucer Road", "Spenser Road", "Ashburnham Road", "Linden Road",
    "Cherry Tree Walk", "Willow Way", "Beech Grove", "Kingsbrook Way", "Riverside Close",
    "Ampthill Road", "Foster Hill Road", "Sidney Road",
)
STREETS_WALES: tuple[str, ...] = (
    "Heol y Coed", "Ffordd yr Afon", "Monmouth Road", "Chapel Road", "Hereford Road",
    "Cae Melin", "Maes y Deri", "Park Crescent", "Brecon Road", "Union Road", "Lion Street",
    "Merthyr Road", "Croesonen Parc", "Llwyn Celyn", "Tudor Street", "Ross Road",
    "Pen y Pound", "Holywell Road", "Avenue Road", "Cantref Lane",
)

# Letters allowed in the last two places of a UK postcode.
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# fmt: on
