//! The sandbox's fake users: who can be picked on its consent pages, and what their accounts
//! look like.

use domain::Provider;

/// A Facebook Page a fake Meta user manages.
#[derive(Debug, Clone)]
pub struct FakePage {
    pub id: &'static str,
    pub name: &'static str,
    /// The Instagram professional account attached to the Page, if any.
    pub instagram: Option<FakeInstagram>,
}

/// An Instagram professional account.
#[derive(Debug, Clone)]
pub struct FakeInstagram {
    pub id: &'static str,
    pub username: &'static str,
    pub name: &'static str,
    pub followers: i64,
}

/// A YouTube channel.
#[derive(Debug, Clone)]
pub struct FakeChannel {
    pub id: &'static str,
    pub title: &'static str,
    pub custom_url: &'static str,
    pub subscribers: i64,
    /// Views in any 30-day window (the audience eligibility rule reads this).
    pub views_30_days: i64,
}

/// One fake user of one provider.
#[derive(Debug, Clone)]
pub struct FakeUser {
    /// The name tests pick it by (`sandbox_user=meta_ana`).
    pub key: &'static str,
    pub provider: Provider,
    /// What the consent page shows.
    pub label: &'static str,
    /// The provider's id for the user (Meta app-scoped id, TikTok `open_id`, Google subject).
    pub user_id: &'static str,
    pub pages: Vec<FakePage>,
    /// TikTok: handle, display name, followers.
    pub tiktok: Option<(&'static str, &'static str, i64)>,
    /// Google: the channel, if the account has one.
    pub channel: Option<FakeChannel>,
}

/// Every fake user, in the order the consent pages list them.
pub fn all() -> Vec<FakeUser> {
    vec![
        FakeUser {
            key: "meta_ana",
            provider: Provider::Meta,
            label: "Ana (two Pages: Ana Travels with Instagram @ana.travels, Ana's Bakery without)",
            user_id: "10215962834550001",
            pages: vec![
                FakePage {
                    id: "101112131415161",
                    name: "Ana Travels",
                    instagram: Some(FakeInstagram {
                        id: "17841400008460056",
                        username: "ana.travels",
                        name: "Ana | Travel",
                        followers: 48_213,
                    }),
                },
                FakePage {
                    id: "202122232425262",
                    name: "Ana's Bakery",
                    instagram: None,
                },
            ],
            tiktok: None,
            channel: None,
        },
        FakeUser {
            key: "meta_ben",
            provider: Provider::Meta,
            label: "Ben (one Page, Ben Rides, with Instagram @ben.rides)",
            user_id: "10215962834550002",
            pages: vec![FakePage {
                id: "303132333435363",
                name: "Ben Rides",
                instagram: Some(FakeInstagram {
                    id: "17841400008460077",
                    username: "ben.rides",
                    name: "Ben on two wheels",
                    followers: 9_870,
                }),
            }],
            tiktok: None,
            channel: None,
        },
        FakeUser {
            key: "meta_cleo",
            provider: Provider::Meta,
            label: "Cleo (one Page, no Instagram professional account)",
            user_id: "10215962834550003",
            pages: vec![FakePage {
                id: "404142434445464",
                name: "Cleo Paints",
                instagram: None,
            }],
            tiktok: None,
            channel: None,
        },
        FakeUser {
            key: "tiktok_leo",
            provider: Provider::Tiktok,
            label: "Leo (@leo.dances)",
            user_id: "-000B2hX6yQ0nDGYkZBsKbYP9yHj5mD5LEO1",
            pages: vec![],
            tiktok: Some(("leo.dances", "Leo Dances", 120_455)),
            channel: None,
        },
        FakeUser {
            key: "tiktok_mia",
            provider: Provider::Tiktok,
            label: "Mia (@mia.makes)",
            user_id: "-000B2hX6yQ0nDGYkZBsKbYP9yHj5mD5MIA2",
            pages: vec![],
            tiktok: Some(("mia.makes", "Mia Makes", 3_402)),
            channel: None,
        },
        FakeUser {
            key: "yt_big",
            provider: Provider::Google,
            label: "Ana Travels channel (251K subscribers, audience data available)",
            user_id: "google-sub-ana",
            pages: vec![],
            tiktok: None,
            channel: Some(FakeChannel {
                id: "UC4R8DWoMoI7CAwX8_LjQHig",
                title: "Ana Travels",
                custom_url: "@anatravels",
                subscribers: 251_000,
                views_30_days: 1_450_000,
            }),
        },
        FakeUser {
            key: "yt_small",
            provider: Provider::Google,
            label: "Tiny Tunes channel (640 subscribers, under the audience threshold)",
            user_id: "google-sub-tiny",
            pages: vec![],
            tiktok: None,
            channel: Some(FakeChannel {
                id: "UCsm4llCh4nn3lTinyTunes0",
                title: "Tiny Tunes",
                custom_url: "@tinytunes",
                subscribers: 640,
                views_30_days: 3_100,
            }),
        },
        FakeUser {
            key: "google_nochannel",
            provider: Provider::Google,
            label: "A Google account without a YouTube channel",
            user_id: "google-sub-none",
            pages: vec![],
            tiktok: None,
            channel: None,
        },
    ]
}

/// The fake user named `key`.
pub fn find(key: &str) -> Option<FakeUser> {
    all().into_iter().find(|u| u.key == key)
}

/// The fake users of `provider`.
pub fn of(provider: Provider) -> Vec<FakeUser> {
    all()
        .into_iter()
        .filter(|u| u.provider == provider)
        .collect()
}
