"""Name and place lists for synthetic people (common UK names; no real individuals intended)."""

from __future__ import annotations

BOYS = (
    "Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Arthur", "Muhammad", "Oscar", "Charlie", "Jacob",
    "Thomas", "Henry", "William", "Freddie", "Alfie", "Theo", "Archie", "Joshua", "James", "Isaac", "Lucas",
    "Ethan", "Samuel", "Daniel", "Adam", "Max", "Finley", "Reuben", "Ibrahim", "Rohan", "Kai", "Dylan", "Ezra",
)
GIRLS = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Sophia", "Grace", "Freya", "Florence",
    "Poppy", "Emily", "Ella", "Evie", "Willow", "Sienna", "Phoebe", "Ruby", "Alice", "Aisha", "Maya", "Zara",
    "Hannah", "Chloe", "Matilda", "Erin", "Priya", "Layla", "Niamh", "Harriet", "Esme", "Imogen",
)
SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Thomas", "Clarke", "Jackson", "Wood",
    "Harris", "Edwards", "Turner", "Martin", "Cooper", "Hill", "Ward", "Hughes", "Moore", "Clark", "King",
    "Harrison", "Lewis", "Baker", "Lee", "Allen", "Morris", "Khan", "Scott", "Watson", "Davis", "Parker", "Ali",
    "Bennett", "Young", "Cook", "Shaw", "Price", "Murphy", "O'Brien", "Kaur", "Begum", "Nowak", "Okafor",
    "Chen", "Mensah", "Fletcher", "Dawson", "Ashworth", "Fitzgerald", "Hussain", "Singh", "Adeyemi",
)
ADULT_MEN = ("David", "Paul", "Mark", "Andrew", "Richard", "Stephen", "Simon", "Matthew", "Peter", "Imran", "Tom")
ADULT_WOMEN = ("Sarah", "Claire", "Emma", "Rachel", "Helen", "Louise", "Joanne", "Nicola", "Kate", "Fatima", "Anna")
STREETS = (
    "Church Road", "Station Road", "Victoria Road", "Park Avenue", "Mill Lane", "The Green", "Manor Road",
    "Kings Road", "Queens Road", "Orchard Close", "High Street", "School Lane", "Meadow Way", "Oak Drive",
)
TOWNS = ("Northgate", "Elmbridge", "Riverside", "Ashford", "Hartley", "Kingsford", "Westholme", "Burnham")
NATIONALITIES = ("British", "British", "British", "British", "British,Irish", "British,Pakistani", "Polish",
                 "British,Nigerian", "Chinese", "British,Indian", "Spanish")
LANGUAGES = ("English", "English", "English", "English", "English, Urdu", "Polish, English", "English, Yoruba",
             "Mandarin, English", "English, Punjabi", "Spanish, English")

# (code, name, academic house names, boarding house names)
SCHOOLS = (
    ("NHS", "Northgate High School", ("Nelson", "Drake", "Raleigh", "Grenville"), ("Hawthorn", "Rowan", "Beech")),
    ("ELM", "Elmbridge College", ("Austen", "Bronte", "Darwin", "Newton"), ("School House", "Mill House", "Lodge")),
    ("RVC", "Riverside Collegiate", ("Kestrel", "Falcon", "Merlin", "Osprey"), ("Thames", "Severn", "Trent")),
    ("ASH", "Ashford Grammar School", ("Oak", "Ash", "Elm", "Yew"), ("North", "South", "West")),
    ("KGS", "Kingsford School", ("Tudor", "Stuart", "Windsor", "York"), ("Abbey", "Priory", "Grange")),
    ("WHA", "Westholme Academy", ("Red", "Blue", "Green", "Gold"), ("Cedar", "Larch", "Holly")),
)

CUSTOM_GROUPS = ("Choir", "Chess Club", "Debating Society", "Duke of Edinburgh Award", "Orchestra", "Robotics Club")

# (department, ((subject, code), ...))
DEPARTMENTS = (
    ("English", (("English", "En"),)),
    ("Mathematics", (("Mathematics", "Ma"),)),
    ("Science", (("Biology", "Bi"), ("Chemistry", "Ch"), ("Physics", "Ph"))),
    ("Humanities", (("History", "Hi"), ("Geography", "Gg"), ("Religious Studies", "Rs"))),
    ("Modern Languages", (("French", "Fr"), ("Spanish", "Sp"))),
    ("Creative Arts", (("Art", "Ar"), ("Music", "Mu"), ("Drama", "Dr"))),
    ("Computing", (("Computer Science", "Cs"),)),
)

STAFF_ROLES = ("Teacher", "Form Tutor", "Head of Department", "Housemaster", "Teaching Assistant", "Administrator")
