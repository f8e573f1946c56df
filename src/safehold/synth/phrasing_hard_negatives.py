"""Hard-negative phrase banks: benign conversations that borrow grooming vocabulary.

Why: a model that flags "don't tell", "gift card", "move to another app" or "pick you
up" on sight would bury reviewers in false alerts about parents, teachers and coaches.
These benign exchanges use the same words in their everyday, supervised sense.
Roles: A organises (parent, relative, teacher, coach, friend, sibling), B is the child or
second person, C a parent in copy, M any other group member.
"""

from __future__ import annotations

Unit = tuple[str, ...]

HARD_NEGATIVE_BODIES: dict[str, dict[str, tuple[Unit, ...]]] = {
    # A parent asks the child whether they told the other parent.
    "told_other_parent": {
        "formal": (
            (
                "A|Did you tell your {op} about {event}?",
                "B|Not yet, I will tell them tonight.",
                "A|Please do, they need to sign the form.",
            ),
            (
                "A|Have you told your {op} that you need picking up at {time}?",
                "B|Yes, I told them this morning.",
                "A|Good, thank you.",
            ),
            (
                "A|Did you let your {op} know about your {subject} result?",
                "B|No, I wanted to tell them in person.",
                "A|That is a nice idea, they will be proud.",
            ),
            (
                "A|Do not tell your {op} about the present. It is a surprise.",
                "B|I will not, I promise.",
                "A|Our secret until {day}.",
            ),
        ),
        "casual": (
            (
                "A|did you tell your {op} about {event}?",
                "B|not yet, will tonight",
                "A|ok make sure you do, they need to sign the form",
            ),
            (
                "A|have you told your {op} you need picking up at {time}?",
                "B|yeah told them this morning",
                "A|great",
            ),
            (
                "A|did you tell your {op} about your {subject} mark?",
                "B|no I want to tell them myself",
                "A|aw they'll be so proud",
            ),
            (
                "A|don't tell your {op} about the present, it's a surprise!",
                "B|I won't promise",
                "A|our secret till {day}",
            ),
        ),
        "textspeak": (
            (
                "A|did u tell ur {op} bout {event}",
                "B|not yet 2nite",
                "A|ok they need 2 sign the form",
            ),
            ("A|u told ur {op} u need pickin up at {time}?", "B|ye this mornin", "A|gd"),
            (
                "A|did u tell ur {op} ur {subject} mark",
                "B|no wanna tell them myself",
                "A|aw theyll b proud",
            ),
            (
                "A|dont tell ur {op} bout the present its a surprise",
                "B|i wont",
                "A|our secret til {day}",
            ),
        ),
        "emoji_light": (
            (
                "A|Did you tell your {op} about {event}? 📝",
                "B|Not yet, tonight 🙂",
                "A|Ok! They need to sign the form ✍️",
            ),
            (
                "A|Have you told your {op} you need picking up at {time}? 🚗",
                "B|Yep, this morning 👍",
                "A|Great 😊",
            ),
            (
                "A|Did you tell your {op} about your {subject} mark? ⭐",
                "B|Not yet, I want to tell them myself 😊",
                "A|Aww they'll be so proud 🥹",
            ),
            (
                "A|Don't tell your {op} about the present 🤫 it's a surprise 🎁",
                "B|I won't! 🤐",
                "A|Our secret till {day} 😉",
            ),
        ),
        "typo_prone": (
            (
                "A|did you tell you're {op} about {event}",
                "B|not yet ill tell them tonite",
                "A|ok they need to sign the form",
            ),
            (
                "A|have you told your {op} you need picking up at {time}",
                "B|yeah this morning",
                "A|good",
            ),
            (
                "A|did you tell your {op} about you're {subject} mark",
                "B|no i want to tell them my self",
                "A|aw theyll be so proud",
            ),
            (
                "A|dont tell your {op} about the present its a suprise",
                "B|i wont promise",
                "A|our secret untill {day}",
            ),
        ),
        "terse": (
            ("A|told your {op} about {event}?", "B|tonight", "A|form needs signing"),
            ("A|{op} knows pickup is {time}?", "B|yes"),
            ("A|told {op} your {subject} mark?", "B|not yet", "A|they'll be proud"),
            ("A|present for {op}: secret till {day}", "B|ok"),
        ),
    },
    # A teacher arranges to meet the class at school (group channel).
    "teacher_meeting": {
        "formal": (
            (
                "A|Hello, class. We will meet in {room} at {time} on {day} for {event}.",
                "M|Thank you.",
                "M|Do we need to bring anything?",
                "A|Please bring a packed lunch and your signed form.",
            ),
            (
                "A|Reminder: meet me at the front gate at {time}. The coach leaves promptly.",
                "M|Will we be back before the end of the day?",
                "A|Yes, we should be back by half past three.",
            ),
            (
                "A|If your parents are collecting you afterwards, please let me know by {day}.",
                "M|My {guardian} will pick me up.",
                "A|Thank you, noted.",
            ),
        ),
        "casual": (
            (
                "A|Hi all! We're meeting in {room} at {time} on {day} for {event}",
                "M|ok thanks",
                "M|do we need anything?",
                "A|packed lunch and your signed form please",
            ),
            (
                "A|Meet at the front gate at {time}, coach leaves on time!",
                "M|what time are we back?",
                "A|about half three",
            ),
            (
                "A|If someone's picking you up after, let me know by {day}",
                "M|my {guardian} is getting me",
                "A|great, thanks",
            ),
        ),
        "textspeak": (
            (
                "A|Hi all, meet in {room} at {time} {day} for {event}",
                "M|ok",
                "M|do we need nething",
                "A|Packed lunch + signed form pls",
            ),
            ("A|Front gate {time}, coach leaves on time", "M|wen r we back", "A|About half 3"),
            (
                "A|Tell me by {day} if ur being picked up",
                "M|my {guardian} is gettin me",
                "A|Thanks",
            ),
        ),
        "emoji_light": (
            (
                "A|Hi everyone! 👋 Meet in {room} at {time} on {day} for {event} 🚌",
                "M|Ok! 👍",
                "M|Do we need anything? 🤔",
                "A|Packed lunch + signed form please 🥪✍️",
            ),
            (
                "A|Front gate at {time} ⏰ the coach won't wait!",
                "M|When are we back? 🙂",
                "A|Around half three 🕞",
            ),
            (
                "A|If you're being collected after, tell me by {day} 🚗",
                "M|My {guardian} is picking me up 🙂",
                "A|Thanks! ✅",
            ),
        ),
        "typo_prone": (
            (
                "A|Hi all, we are meeting in {room} at {time} on {day} for {event}",
                "M|ok thanks",
                "M|do we need to bring anyting",
                "A|A packed lunch and your signed form please",
            ),
            (
                "A|Meet at the front gate at {time}, the coach leaves on time",
                "M|what time do we get back",
                "A|About half three",
            ),
            (
                "A|Let me know by {day} if someone is collecting you",
                "M|my {guardian} is picking me up",
                "A|Thank you",
            ),
        ),
        "terse": (
            ("A|{event}: {room}, {time}, {day}", "M|ok", "M|bring anything?", "A|lunch + form"),
            ("A|gate at {time}. coach won't wait", "M|back when?", "A|half 3"),
            ("A|pickups: tell me by {day}", "M|{guardian} collecting", "A|noted"),
        ),
    },
    # Friends move their group chat to another app.
    "group_app_move": {
        "formal": (
            (
                "A|This group chat is getting slow. Shall we move it to {app}?",
                "M|Good idea, I already have it.",
                "M|I will download it tonight.",
                "A|I will create the group and add everyone.",
            ),
            ("M|Is {app} free?", "A|Yes, and it works on tablets too.", "M|Great."),
            (
                "M|Why not {vanish_app}? The disappearing messages are funny.",
                "A|Our parents asked us to use {app}, so let us stick with that.",
            ),
            (
                "A|I have made the group on {app}. The invite link is in the class chat.",
                "M|Joined, thank you.",
                "M|Can you add {friend} as well?",
            ),
        ),
        "casual": (
            (
                "A|this chat is so laggy, move to {app}?",
                "M|yes I've got it already",
                "M|downloading now",
                "A|ok making the group",
            ),
            ("M|is {app} free?", "A|yeah and it works on tablets", "M|nice"),
            (
                "M|what about {vanish_app}? the disappearing messages are funny",
                "A|my {guardian} said {app} only, let's just use that",
            ),
            ("A|made the {app} group, link's in the class chat", "M|joined!", "M|add {friend} too"),
        ),
        "textspeak": (
            (
                "A|this chat is so laggy lets move 2 {app}",
                "M|ye i got it",
                "M|dl'ing now",
                "A|makin the grp",
            ),
            ("M|is {app} free", "A|ye works on tablets 2", "M|nice"),
            ("M|y not {vanish_app} the msgs disappear lol", "A|my {guardian} sed {app} only"),
            ("A|{app} grp made link in class chat", "M|joined", "M|add {friend} 2"),
        ),
        "emoji_light": (
            (
                "A|This chat is so laggy 😩 move to {app}?",
                "M|Yes! Already have it 👍",
                "M|Downloading now 📲",
                "A|Making the group 🙌",
            ),
            ("M|Is {app} free? 🤔", "A|Yep and it works on tablets 📱", "M|Nice 😄"),
            (
                "M|What about {vanish_app}? 👻 disappearing messages are funny",
                "A|My {guardian} said {app} only 🙃",
            ),
            (
                "A|{app} group is made! Link in the class chat 🔗",
                "M|Joined! 🎉",
                "M|Add {friend} too 🙂",
            ),
        ),
        "typo_prone": (
            (
                "A|this chat is so laggy should we move to {app}",
                "M|yeah i allready have it",
                "M|downloding now",
                "A|ok making the group",
            ),
            ("M|is {app} free", "A|yeah it works on tablets to", "M|nice"),
            (
                "M|what about {vanish_app} the dissapearing messages are funny",
                "A|my {guardian} said only {app}",
            ),
            (
                "A|made the group on {app} the link is in the class chat",
                "M|joined",
                "M|can you add {friend} to",
            ),
        ),
        "terse": (
            ("A|move to {app}?", "M|yes", "M|ok", "A|making group"),
            ("M|{app} free?", "A|yes", "M|ok"),
            ("M|{vanish_app}?", "A|{guardian} says {app} only"),
            ("A|{app} group up. link in class chat", "M|in", "M|add {friend}"),
        ),
    },
    # A relative sends birthday presents (gift cards, credits, top-ups) within the family.
    "family_presents": {
        "formal": (
            (
                "A|What would you like for your birthday this year?",
                "B|Maybe {credits} for {game}, or {present}.",
                "A|I will have a word with your {op}.",
            ),
            (
                "A|Happy birthday, {name}! I have sent you a {amount} gift card.",
                "B|Thank you so much, {relative}!",
                "A|Buy yourself something nice.",
            ),
            (
                "A|I have topped up your phone for the month.",
                "B|Thank you! I was nearly out of credit.",
            ),
        ),
        "casual": (
            (
                "A|what do you want for your birthday?",
                "B|{credits} for {game} maybe? or {present}",
                "A|I'll check with your {op}",
            ),
            (
                "A|happy birthday {name}!! sent you a {amount} gift card",
                "B|thank you {relative}!!",
                "A|treat yourself!",
            ),
            ("A|topped up your phone for you", "B|thank you! I was nearly out"),
        ),
        "textspeak": (
            ("A|wat u want 4 ur bday", "B|{credits} 4 {game} or {present}", "A|ill ask ur {op}"),
            (
                "A|happy bday {name}! sent u a {amount} gift card",
                "B|ty {relative}!!",
                "A|treat urself",
            ),
            ("A|topped up ur phone", "B|ty was nearly out"),
        ),
        "emoji_light": (
            (
                "A|What would you like for your birthday? 🎁",
                "B|{credits} for {game}? Or {present} 🙏",
                "A|I'll check with your {op} 😉",
            ),
            (
                "A|Happy birthday {name}!! 🎂 Sent you a {amount} gift card 🎁",
                "B|Thank you {relative}!! 😍",
                "A|Treat yourself! 🥳",
            ),
            ("A|Topped up your phone 📱", "B|Thank you!! I was nearly out 🙌"),
        ),
        "typo_prone": (
            (
                "A|what do you want for you're birthday",
                "B|{credits} for {game} or {present}",
                "A|ill ask your {op}",
            ),
            (
                "A|happy birthday {name} i sent you a {amount} gift card",
                "B|thank you {relative}",
                "A|treat your self",
            ),
            ("A|i topped up your phone", "B|thankyou i was nearly out"),
        ),
        "terse": (
            ("A|birthday wishes?", "B|{credits} or {present}", "A|checking with {op}"),
            ("A|happy birthday {name}. {amount} card sent", "B|thanks {relative}!"),
            ("A|phone topped up", "B|thanks!"),
        ),
    },
    # A coach arranges a lift to a match; a parent is in the chat (C).
    "coach_pickup": {
        "formal": (
            (
                "A|Hello all. The {sport} match is on {day} at {venue}, starting at {time}.",
                "C|Thank you. Could {name} get a lift with you?",
                "A|Of course. I can pick {name} up from {place} an hour before.",
                "C|That is very kind, thank you.",
                "B|Thanks, coach!",
            ),
            (
                "A|Parents, please confirm by {day} whether your child needs a lift.",
                "C|{name} will need a lift, please.",
                "A|Noted. I will message here when we set off.",
            ),
            (
                "A|We are on our way back now, arriving at {place} in about twenty minutes.",
                "C|Thank you, I will be there to collect {name}.",
            ),
        ),
        "casual": (
            (
                "A|Hi all, {sport} match {day} at {venue}, starts {time}",
                "C|thanks! could {name} get a lift with you?",
                "A|sure, I'll pick {name} up from {place} an hour before, {friend}'s coming too",
                "C|amazing thank you",
                "B|thanks coach",
            ),
            (
                "A|parents can you let me know by {day} who needs a lift",
                "C|{name} does please",
                "A|no worries, I'll post here when we leave",
            ),
            (
                "A|heading back now, at {place} in about 20 mins",
                "C|great, I'll be there to get {name}",
            ),
        ),
        "textspeak": (
            (
                "A|{sport} match {day} @ {venue}, starts {time}",
                "C|can {name} get a lift pls",
                "A|Yep, pick up from {place} an hr before, {friend} coming 2",
                "C|ty",
                "B|thx coach",
            ),
            (
                "A|Parents pls confirm lifts by {day}",
                "C|{name} needs 1 pls",
                "A|Noted, will post here wen we leave",
            ),
            ("A|On way back, at {place} in 20", "C|k ill b there 4 {name}"),
        ),
        "emoji_light": (
            (
                "A|{sport} match {day} at {venue} 🏆 starts {time}",
                "C|Could {name} get a lift with you? 🙏",
                "A|Sure! Pick-up from {place} an hour before 🚐 {friend} is coming too",
                "C|Amazing, thank you! 😊",
                "B|Thanks coach! 👍",
            ),
            (
                "A|Parents: lifts needed? Let me know by {day} 🚐",
                "C|{name} please 🙋",
                "A|Noted ✅ I'll post here when we leave",
            ),
            (
                "A|On our way back! At {place} in about 20 mins 🕒",
                "C|Great, I'll be there for {name} 👍",
            ),
        ),
        "typo_prone": (
            (
                "A|{sport} match on {day} at {venue}, starts at {time}",
                "C|could {name} get a lift with you",
                "A|Yes I can pick {name} up from {place} an hour before, {friend} is coming to",
                "C|thank you so much",
                "B|thanks coach",
            ),
            (
                "A|Parents please tell me by {day} if you need a lift",
                "C|{name} needs one please",
                "A|Ok I will post here when we leave",
            ),
            (
                "A|On the way back, at {place} in about 20 minutes",
                "C|great ill be their to get {name}",
            ),
        ),
        "terse": (
            (
                "A|{sport}: {day}, {venue}, {time}",
                "C|lift for {name}?",
                "A|yes. {place}, hour before",
                "C|thanks",
            ),
            ("A|lifts? tell me by {day}", "C|{name} yes", "A|noted"),
            ("A|back at {place} in 20", "C|there for {name}"),
        ),
    },
    # Siblings keep a surprise party secret.
    "surprise_party": {
        "formal": (
            (
                "A|Remember, do not tell {celebrant} about the party on {day}.",
                "B|I will not say a word.",
                "A|Good. It is a surprise.",
            ),
            (
                "A|Can you keep {celebrant} busy until {time}?",
                "B|Yes, I will take them to {place}.",
                "A|Perfect.",
            ),
            (
                "B|Where are we hiding the presents?",
                "A|In my wardrobe. Do not let {celebrant} see them.",
            ),
            ("A|Delete this chat if {celebrant} borrows your phone!", "B|Ha, I will."),
        ),
        "casual": (
            (
                "A|DON'T tell {celebrant} about the party {day}",
                "B|my lips are sealed",
                "A|it's a surprise remember",
            ),
            (
                "A|can you keep {celebrant} busy till {time}?",
                "B|yeah I'll take them to {place}",
                "A|perfect",
            ),
            ("B|where are we hiding the presents?", "A|my wardrobe, don't let {celebrant} see"),
            ("A|delete this chat if {celebrant} borrows your phone lol", "B|haha will do"),
        ),
        "textspeak": (
            (
                "A|dont tell {celebrant} bout the party {day}",
                "B|wont say nothin",
                "A|its a surprise",
            ),
            ("A|can u keep {celebrant} busy til {time}", "B|ye ill take them 2 {place}", "A|perf"),
            ("B|where we hidin the presents", "A|my wardrobe dont let {celebrant} see"),
            ("A|delete this chat if {celebrant} borrows ur phone lol", "B|lol ok"),
        ),
        "emoji_light": (
            (
                "A|Shhh 🤫 don't tell {celebrant} about the party on {day} 🎉",
                "B|My lips are sealed 🤐",
                "A|Surprise!! 🎂",
            ),
            (
                "A|Can you keep {celebrant} busy till {time}? ⏰",
                "B|Yep, taking them to {place} 🙂",
                "A|Perfect 👌",
            ),
            (
                "B|Where are we hiding the presents? 🎁",
                "A|My wardrobe! Don't let {celebrant} see 🙈",
            ),
            ("A|Delete this chat if {celebrant} borrows your phone 😂", "B|Haha will do 😅"),
        ),
        "typo_prone": (
            (
                "A|dont tell {celebrant} about the party on {day}",
                "B|i wont say anyting",
                "A|its a suprise remember",
            ),
            (
                "A|can you keep {celebrant} busy untill {time}",
                "B|yeah ill take them to {place}",
                "A|perfect",
            ),
            ("B|where are we hidding the presents", "A|in my wardrobe dont let {celebrant} see"),
            ("A|delete this chat if {celebrant} borows your phone lol", "B|haha ok"),
        ),
        "terse": (
            ("A|party {day}. don't tell {celebrant}", "B|won't", "A|surprise"),
            ("A|keep {celebrant} busy till {time}", "B|{place}. ok"),
            ("B|presents?", "A|my wardrobe. hide them"),
            ("A|delete chat if {celebrant} has your phone", "B|lol ok"),
        ),
    },
    # A parent checks on the child's safety (home alone, who messages them, the tablet).
    "safety_check_in": {
        "formal": (
            (
                "A|Are you home alone until I finish work?",
                "B|Yes, until {time}.",
                "A|Please keep the door locked and call me if you need anything.",
            ),
            (
                "A|Is anyone messaging you online that you do not know?",
                "B|No, only my friends.",
                "A|Good. Tell me straight away if that changes.",
            ),
            (
                "A|Who else has been using the tablet?",
                "B|Only {friend}, for homework.",
                "A|That is fine.",
            ),
            (
                "A|You can always show me anything online that worries you.",
                "B|I know. I will tell you if anything happens.",
            ),
        ),
        "casual": (
            (
                "A|you home alone till I'm back?",
                "B|yeah till {time}",
                "A|keep the door locked, ring me if you need anything",
            ),
            (
                "A|anyone you don't know messaging you online?",
                "B|no just my friends",
                "A|ok, tell me straight away if that changes",
            ),
            ("A|who's been using the tablet?", "B|just {friend} for homework", "A|ok fine"),
            ("A|if anything online ever worries you, you can always show me", "B|I know, thanks"),
        ),
        "textspeak": (
            (
                "A|u home alone til im back?",
                "B|ye til {time}",
                "A|keep door locked, ring me if u need",
            ),
            (
                "A|any1 u dont kno msgin u online?",
                "B|no jus my friends",
                "A|ok tell me if that changes",
            ),
            ("A|whos been on the tablet", "B|jus {friend} 4 hw", "A|ok"),
            ("A|if nething online worries u show me ok", "B|ok i kno"),
        ),
        "emoji_light": (
            (
                "A|Home alone till I'm back? 🏠",
                "B|Yep till {time} 🙂",
                "A|Keep the door locked 🔒 ring me if you need anything",
            ),
            (
                "A|Anyone you don't know messaging you online? 🤔",
                "B|Nope, just friends 🙂",
                "A|Ok! Tell me straight away if that changes 💛",
            ),
            ("A|Who's been using the tablet? 📱", "B|Just {friend} for homework 📚", "A|Ok 👍"),
            ("A|If anything online worries you, show me ok? 🤗", "B|I know, thanks 🙂"),
        ),
        "typo_prone": (
            (
                "A|are you home alone untill im back",
                "B|yeah untill {time}",
                "A|keep the door locked and ring me if you need anyting",
            ),
            (
                "A|is anyone you dont no messaging you online",
                "B|no just my freinds",
                "A|ok tell me strait away if that changes",
            ),
            ("A|whos been using the tablet", "B|just {friend} for homework", "A|ok thats fine"),
            ("A|if anyting online worries you show me ok", "B|i know thanks"),
        ),
        "terse": (
            ("A|home alone till {time}?", "B|yes", "A|lock door"),
            ("A|strangers messaging you?", "B|no", "A|tell me if so"),
            ("A|who used the tablet?", "B|{friend}. homework"),
            ("A|anything online worrying you?", "B|no. would tell you"),
        ),
    },
}
