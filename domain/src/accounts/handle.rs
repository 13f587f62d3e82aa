//! Turning whatever a user types for a social account (a handle, `@handle` or a profile link in
//! any of its common shapes) or for a post into one canonical value.
//!
//! Parse, don't validate: an [`AccountRef`] or a [`MediaRef`] can only be made here, so holding
//! one means the platform, the key and the canonical URL are known good. Links are read with the
//! `url` crate and rebuilt from their parts; nothing of the input's host, port or credentials
//! survives into a canonical URL.

use url::Url;

use crate::kinds::Platform;

/// Why an input could not be read as an account or a post. Messages are written for the person
/// who typed the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseAccountError {
    /// Empty, not a web link, not a valid handle, or a link missing its account or id
    /// (`INVALID_URL`).
    #[error("{0}")]
    InvalidUrl(String),
    /// A link to a site other than Instagram, Facebook, TikTok or YouTube; holds the site's host
    /// (`UNSUPPORTED_PLATFORM`).
    #[error("{0} is not supported; use an Instagram, Facebook, TikTok or YouTube link")]
    UnsupportedPlatform(String),
    /// A bare handle without a platform to put it on (`AMBIGUOUS_PLATFORM`).
    #[error(
        "which platform is this handle on? Choose Instagram, Facebook, TikTok or YouTube, \
         or paste the profile link instead"
    )]
    AmbiguousPlatform,
    /// A link on a supported platform that does not name an account, such as a video link
    /// (`NOT_A_PROFILE`).
    #[error("{0}")]
    NotAProfile(String),
    /// A link on a supported platform that does not name a post, reel or video (`NOT_A_POST`).
    #[error("{0}")]
    NotAPost(String),
    /// The link is for another platform than the one asked for (`PLATFORM_MISMATCH`).
    #[error(
        "this link is for {}, but an account on {} was asked for",
        platform_name(.found),
        platform_name(.expected)
    )]
    PlatformMismatch {
        /// The platform the caller asked for.
        expected: Platform,
        /// The platform the link belongs to.
        found: Platform,
    },
}

impl ParseAccountError {
    /// The stable code for API errors, e.g. `INVALID_URL`.
    pub fn code(&self) -> &'static str {
        match self {
            ParseAccountError::InvalidUrl(_) => "INVALID_URL",
            ParseAccountError::UnsupportedPlatform(_) => "UNSUPPORTED_PLATFORM",
            ParseAccountError::AmbiguousPlatform => "AMBIGUOUS_PLATFORM",
            ParseAccountError::NotAProfile(_) => "NOT_A_PROFILE",
            ParseAccountError::NotAPost(_) => "NOT_A_POST",
            ParseAccountError::PlatformMismatch { .. } => "PLATFORM_MISMATCH",
        }
    }
}

/// What names an account on its platform. Values are as the user typed them (case kept, no `@`)
/// and already checked against the platform's rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountKey {
    /// A handle: `@name` on TikTok and YouTube, the profile path on Instagram and Facebook.
    Handle(String),
    /// A YouTube channel id, `UC` followed by 22 characters.
    ChannelId(String),
    /// A YouTube custom URL name, `youtube.com/c/{name}`.
    YoutubeCustom(String),
    /// A YouTube legacy username, `youtube.com/user/{name}`.
    YoutubeUser(String),
    /// A numeric Facebook profile or Page id (`profile.php?id=`, `pages/{name}/{id}`).
    FacebookId(String),
}

impl AccountKey {
    /// The value itself, whatever its kind.
    pub fn as_str(&self) -> &str {
        match self {
            AccountKey::Handle(value)
            | AccountKey::ChannelId(value)
            | AccountKey::YoutubeCustom(value)
            | AccountKey::YoutubeUser(value)
            | AccountKey::FacebookId(value) => value,
        }
    }
}

/// A social account as a user named it: its platform, its key and its canonical profile URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountRef {
    platform: Platform,
    key: AccountKey,
    url: String,
}

impl AccountRef {
    /// The platform the account lives on.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// What names the account: a handle, or an id when the link carried one.
    pub fn key(&self) -> &AccountKey {
        &self.key
    }

    /// The handle for display, case kept and without `@`; for id keys, the id.
    pub fn handle(&self) -> &str {
        self.key.as_str()
    }

    /// The uniqueness key, matching the store's `lower(handle)` index: [`Self::handle`] in
    /// lowercase. Keys are ASCII by construction, so ASCII lowercasing is the whole story.
    pub fn handle_lower(&self) -> String {
        self.handle().to_ascii_lowercase()
    }

    /// The canonical profile URL, e.g. `https://www.instagram.com/name/`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A post, reel or video link: its platform, the platform's code or id for it, the account
/// handle when the link names one, and a canonical URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaRef {
    platform: Platform,
    media_id: String,
    handle: Option<String>,
    url: String,
}

impl MediaRef {
    /// The platform the media lives on.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The platform-side shortcode (Instagram) or id (TikTok, YouTube, Facebook).
    pub fn media_id(&self) -> &str {
        &self.media_id
    }

    /// The author's handle (case kept, no `@`) when the link includes it.
    pub fn handle(&self) -> Option<&str> {
        self.handle.as_deref()
    }

    /// The canonical media URL, e.g. `https://www.youtube.com/watch?v={id}`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Reads a handle, `@handle` or profile link into an account.
///
/// A bare handle needs `platform_hint`; with a link, the hint must agree with the link's
/// platform. Profile subpages (`/name/reels/`, `/@name/video/123`) name their profile; links
/// that name no account (a YouTube video, an Instagram post, a short link that would need a
/// network round trip to resolve) are [`ParseAccountError::NotAProfile`].
pub fn parse_account(
    input: &str,
    platform_hint: Option<Platform>,
) -> Result<AccountRef, ParseAccountError> {
    match read_input(input)? {
        Input::Bare(handle) => parse_bare_handle(handle, platform_hint),
        Input::Link(url) => {
            let site = site_of(&url)?;
            if let Some(expected) = platform_hint {
                if expected != site.platform() {
                    return Err(ParseAccountError::PlatformMismatch {
                        expected,
                        found: site.platform(),
                    });
                }
            }
            let segments = segments(&url);
            match site {
                Site::Instagram => instagram_account(&segments),
                Site::Tiktok => tiktok_account(&segments),
                Site::Youtube => youtube_account(&segments),
                Site::Facebook => facebook_account(&url, &segments),
                Site::TiktokShort => Err(not_a_profile(SHORT_LINK)),
                Site::YoutubeShort => Err(not_a_profile(YOUTUBE_VIDEO_NOT_CHANNEL)),
                Site::FacebookShort => Err(not_a_profile(FACEBOOK_NOT_PROFILE)),
            }
        }
    }
}

/// Reads a post, reel or video link: Instagram `/p/`, `/reel/`, `/tv/` and story links, TikTok
/// `/@name/video/{id}`, YouTube `watch?v=`, `youtu.be/`, `/shorts/`, `/live/` and `/embed/`,
/// Facebook `/{page}/posts/{id}`, `/{page}/videos/{id}`, `/reel/{id}` and `/watch/?v=`.
pub fn parse_media_url(input: &str) -> Result<MediaRef, ParseAccountError> {
    let url = match read_input(input)? {
        Input::Link(url) => url,
        Input::Bare(_) => {
            return Err(invalid("paste the full link of the post, reel or video"));
        }
    };
    let site = site_of(&url)?;
    let segments = segments(&url);
    match site {
        Site::Instagram => instagram_media(&segments),
        Site::Tiktok => tiktok_media(&segments),
        Site::Youtube => youtube_media(&url, &segments),
        Site::YoutubeShort => match segments.as_slice() {
            [id, ..] => youtube_video(id),
            [] => Err(invalid("this youtu.be link has no video id")),
        },
        Site::Facebook => facebook_media(&url, &segments),
        Site::TiktokShort | Site::FacebookShort => Err(invalid(SHORT_LINK)),
    }
}

const SHORT_LINK: &str = "short links can't be read here; open the link and paste the address \
                          it leads to";
const YOUTUBE_VIDEO_NOT_CHANNEL: &str = "a video link is not a channel; paste the channel link, \
                                         like youtube.com/@name";
const INSTAGRAM_POST_NOT_PROFILE: &str = "this is a link to an Instagram post, not a profile; \
                                          paste the profile link, like instagram.com/name";
const INSTAGRAM_NOT_PROFILE: &str = "this Instagram page is not a profile; paste the profile \
                                     link, like instagram.com/name";
const TIKTOK_NOT_PROFILE: &str = "this TikTok page is not a profile; paste the profile link, \
                                  like tiktok.com/@name";
const YOUTUBE_NOT_CHANNEL: &str = "this YouTube page is not a channel; paste the channel link, \
                                   like youtube.com/@name";
const FACEBOOK_NOT_PROFILE: &str = "this Facebook link is not a profile or Page; paste the \
                                    profile link, like facebook.com/name";

/// Instagram first path segments that are pages of Instagram itself, not accounts.
const INSTAGRAM_RESERVED: &[&str] = &[
    "about",
    "accounts",
    "api",
    "ar",
    "challenge",
    "create",
    "developer",
    "direct",
    "directory",
    "emails",
    "explore",
    "graphql",
    "legal",
    "lite",
    "privacy",
    "s",
    "session",
    "terms",
    "topics",
    "web",
];

/// Facebook first path segments that are pages of Facebook itself or content, not accounts.
const FACEBOOK_RESERVED: &[&str] = &[
    "ads",
    "bookmarks",
    "business",
    "dialog",
    "events",
    "friends",
    "gaming",
    "groups",
    "hashtag",
    "help",
    "login",
    "marketplace",
    "messages",
    "notifications",
    "photo",
    "photos",
    "plugins",
    "policies",
    "privacy",
    "reel",
    "search",
    "settings",
    "share",
    "sharer",
    "stories",
    "watch",
];

enum Input<'a> {
    /// A handle without a site; any leading `@` removed.
    Bare(&'a str),
    Link(Url),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    Instagram,
    Facebook,
    /// `fb.watch`: video short links.
    FacebookShort,
    Tiktok,
    /// `vm.tiktok.com`, `vt.tiktok.com`: short links that only the network can resolve.
    TiktokShort,
    Youtube,
    /// `youtu.be`: video links.
    YoutubeShort,
}

impl Site {
    fn platform(self) -> Platform {
        match self {
            Site::Instagram => Platform::Instagram,
            Site::Facebook | Site::FacebookShort => Platform::Facebook,
            Site::Tiktok | Site::TiktokShort => Platform::Tiktok,
            Site::Youtube | Site::YoutubeShort => Platform::Youtube,
        }
    }

    fn from_host(host: &str) -> Option<Site> {
        let site = match host {
            "instagram.com" | "www.instagram.com" | "m.instagram.com" | "instagr.am"
            | "www.instagr.am" => Site::Instagram,
            "facebook.com"
            | "www.facebook.com"
            | "m.facebook.com"
            | "mbasic.facebook.com"
            | "web.facebook.com"
            | "touch.facebook.com"
            | "fb.com"
            | "www.fb.com"
            | "m.fb.com" => Site::Facebook,
            "fb.watch" | "www.fb.watch" => Site::FacebookShort,
            "tiktok.com" | "www.tiktok.com" | "m.tiktok.com" => Site::Tiktok,
            "vm.tiktok.com" | "vt.tiktok.com" => Site::TiktokShort,
            "youtube.com" | "www.youtube.com" | "m.youtube.com" => Site::Youtube,
            "youtu.be" | "www.youtu.be" => Site::YoutubeShort,
            _ => return None,
        };
        Some(site)
    }
}

fn platform_name(platform: &Platform) -> &'static str {
    match platform {
        Platform::Instagram => "Instagram",
        Platform::Facebook => "Facebook",
        Platform::Tiktok => "TikTok",
        Platform::Youtube => "YouTube",
    }
}

fn invalid(message: &str) -> ParseAccountError {
    ParseAccountError::InvalidUrl(message.to_owned())
}

fn not_a_profile(message: &str) -> ParseAccountError {
    ParseAccountError::NotAProfile(message.to_owned())
}

fn not_a_post(message: &str) -> ParseAccountError {
    ParseAccountError::NotAPost(message.to_owned())
}

/// Splits trimmed input into a bare handle or an absolute http(s) link. Text without a scheme
/// is a link when it has a path or query, or is a supported site's bare host.
fn read_input(input: &str) -> Result<Input<'_>, ParseAccountError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(invalid("enter a profile link or a handle"));
    }
    if let Some(handle) = text.strip_prefix('@') {
        if handle.is_empty() {
            return Err(invalid("enter a handle after the @"));
        }
        return Ok(Input::Bare(handle));
    }
    let link = if text.contains("://") {
        text.to_owned()
    } else if text.contains(':') {
        // `javascript:`, `mailto:` and the like: a scheme we never follow.
        return Err(invalid(
            "this is not a web link; paste an https:// profile link",
        ));
    } else if text.contains(['/', '?', '#'])
        || Site::from_host(&text.to_ascii_lowercase()).is_some()
    {
        format!("https://{text}")
    } else {
        return Ok(Input::Bare(text));
    };
    let url = Url::parse(&link)
        .map_err(|_| invalid("this link is not valid; check it and paste it again"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("only http and https links can be used"));
    }
    Ok(Input::Link(url))
}

fn site_of(url: &Url) -> Result<Site, ParseAccountError> {
    let host = url
        .host_str()
        .ok_or_else(|| invalid("this link has no site; paste the full profile link"))?;
    let host = host.strip_suffix('.').unwrap_or(host);
    Site::from_host(host).ok_or_else(|| ParseAccountError::UnsupportedPlatform(host.to_owned()))
}

/// The link's non-empty path segments, still percent-encoded; an encoded character never passes
/// the handle or id checks, which is the safe answer.
fn segments(url: &Url) -> Vec<&str> {
    url.path_segments()
        .map(|segments| segments.filter(|segment| !segment.is_empty()).collect())
        .unwrap_or_default()
}

fn query_value(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
}

fn parse_bare_handle(
    handle: &str,
    platform_hint: Option<Platform>,
) -> Result<AccountRef, ParseAccountError> {
    let Some(platform) = platform_hint else {
        let plausible = [
            Platform::Instagram,
            Platform::Facebook,
            Platform::Tiktok,
            Platform::Youtube,
        ]
        .into_iter()
        .any(|platform| is_valid_handle(platform, handle));
        return Err(if plausible {
            ParseAccountError::AmbiguousPlatform
        } else {
            invalid("this is not a valid handle or link")
        });
    };
    if platform == Platform::Facebook && is_numeric_id(handle) {
        return Ok(facebook_id(handle));
    }
    checked_handle(platform, handle)?;
    Ok(account(platform, AccountKey::Handle(handle.to_owned())))
}

/// Handle rules per platform: allowed characters and length, and at least one letter or digit.
fn is_valid_handle(platform: Platform, handle: &str) -> bool {
    let (extra, min, max): (&[char], usize, usize) = match platform {
        Platform::Instagram => (&['.', '_'], 1, 30),
        Platform::Tiktok => (&['.', '_'], 2, 24),
        Platform::Youtube => (&['.', '_', '-'], 3, 30),
        Platform::Facebook => (&['.'], 5, 50),
    };
    (min..=max).contains(&handle.len())
        && handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
        && handle.chars().any(|c| c.is_ascii_alphanumeric())
}

fn checked_handle(platform: Platform, handle: &str) -> Result<(), ParseAccountError> {
    if is_valid_handle(platform, handle) {
        return Ok(());
    }
    let rule = match platform {
        Platform::Instagram => "1 to 30 letters, digits, dots or underscores",
        Platform::Tiktok => "2 to 24 letters, digits, dots or underscores",
        Platform::Youtube => "3 to 30 letters, digits, dots, dashes or underscores",
        Platform::Facebook => "5 to 50 letters, digits or dots",
    };
    Err(ParseAccountError::InvalidUrl(format!(
        "this is not a valid {} handle; a handle has {rule}",
        platform_name(&platform)
    )))
}

fn is_numeric_id(text: &str) -> bool {
    (1..=32).contains(&text.len()) && text.chars().all(|c| c.is_ascii_digit())
}

fn is_code(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Builds the account with its canonical URL; `key` has been checked by the caller.
fn account(platform: Platform, key: AccountKey) -> AccountRef {
    let url = match (&key, platform) {
        (AccountKey::Handle(h), Platform::Instagram) => format!("https://www.instagram.com/{h}/"),
        (AccountKey::Handle(h), Platform::Tiktok) => format!("https://www.tiktok.com/@{h}"),
        (AccountKey::Handle(h), Platform::Youtube) => format!("https://www.youtube.com/@{h}"),
        (AccountKey::Handle(h), Platform::Facebook) => format!("https://www.facebook.com/{h}"),
        (AccountKey::ChannelId(id), _) => format!("https://www.youtube.com/channel/{id}"),
        (AccountKey::YoutubeCustom(name), _) => format!("https://www.youtube.com/c/{name}"),
        (AccountKey::YoutubeUser(name), _) => format!("https://www.youtube.com/user/{name}"),
        (AccountKey::FacebookId(id), _) => {
            format!("https://www.facebook.com/profile.php?id={id}")
        }
    };
    AccountRef { platform, key, url }
}

fn handle_account(platform: Platform, handle: &str) -> Result<AccountRef, ParseAccountError> {
    checked_handle(platform, handle)?;
    Ok(account(platform, AccountKey::Handle(handle.to_owned())))
}

fn facebook_id(id: &str) -> AccountRef {
    account(Platform::Facebook, AccountKey::FacebookId(id.to_owned()))
}

fn no_account_in_link(platform: Platform) -> ParseAccountError {
    ParseAccountError::InvalidUrl(format!(
        "this {} link has no account name; paste the profile link",
        platform_name(&platform)
    ))
}

fn instagram_account(segments: &[&str]) -> Result<AccountRef, ParseAccountError> {
    let Some(first) = segments.first() else {
        return Err(no_account_in_link(Platform::Instagram));
    };
    let first_lower = first.to_ascii_lowercase();
    match first_lower.as_str() {
        "p" | "reel" | "reels" | "tv" => Err(not_a_profile(INSTAGRAM_POST_NOT_PROFILE)),
        // Story links carry their author: `/stories/{name}/{id}/`.
        "stories" => match segments.get(1) {
            Some(name) if !name.eq_ignore_ascii_case("highlights") => {
                handle_account(Platform::Instagram, name)
            }
            _ => Err(not_a_profile(INSTAGRAM_NOT_PROFILE)),
        },
        reserved if INSTAGRAM_RESERVED.contains(&reserved) => {
            Err(not_a_profile(INSTAGRAM_NOT_PROFILE))
        }
        _ => handle_account(Platform::Instagram, first),
    }
}

fn tiktok_account(segments: &[&str]) -> Result<AccountRef, ParseAccountError> {
    let Some(first) = segments.first() else {
        return Err(no_account_in_link(Platform::Tiktok));
    };
    if let Some(handle) = first.strip_prefix('@') {
        return handle_account(Platform::Tiktok, handle);
    }
    if *first == "t" {
        return Err(not_a_profile(SHORT_LINK));
    }
    Err(not_a_profile(TIKTOK_NOT_PROFILE))
}

fn youtube_account(segments: &[&str]) -> Result<AccountRef, ParseAccountError> {
    let Some(first) = segments.first() else {
        return Err(no_account_in_link(Platform::Youtube));
    };
    if let Some(handle) = first.strip_prefix('@') {
        return handle_account(Platform::Youtube, handle);
    }
    let second = segments.get(1).copied();
    match (first.to_ascii_lowercase().as_str(), second) {
        ("channel", Some(id)) if is_channel_id(id) => Ok(account(
            Platform::Youtube,
            AccountKey::ChannelId(id.to_owned()),
        )),
        ("channel", _) => Err(invalid(
            "this YouTube channel link has no valid channel id (UC followed by 22 characters)",
        )),
        ("c", Some(name)) if is_code(name, 1, 100) => Ok(account(
            Platform::Youtube,
            AccountKey::YoutubeCustom(name.to_owned()),
        )),
        ("user", Some(name)) if is_code(name, 1, 100) => Ok(account(
            Platform::Youtube,
            AccountKey::YoutubeUser(name.to_owned()),
        )),
        ("c" | "user", _) => Err(no_account_in_link(Platform::Youtube)),
        ("watch" | "shorts" | "live" | "embed" | "v", _) => {
            Err(not_a_profile(YOUTUBE_VIDEO_NOT_CHANNEL))
        }
        _ => Err(not_a_profile(YOUTUBE_NOT_CHANNEL)),
    }
}

fn is_channel_id(id: &str) -> bool {
    id.starts_with("UC") && is_code(id, 24, 24)
}

fn facebook_account(url: &Url, segments: &[&str]) -> Result<AccountRef, ParseAccountError> {
    let Some(first) = segments.first() else {
        return Err(no_account_in_link(Platform::Facebook));
    };
    let first_lower = first.to_ascii_lowercase();
    match first_lower.as_str() {
        "profile.php" => match query_value(url, "id") {
            Some(id) if is_numeric_id(&id) => Ok(facebook_id(&id)),
            _ => Err(invalid("this Facebook profile link has no valid id")),
        },
        // `/pages/{name}/{id}` and `/people/{name}/{id}`: the name is decoration, the id counts.
        "pages" | "people" => segments
            .iter()
            .skip(1)
            .find(|segment| is_numeric_id(segment))
            .map(|id| facebook_id(id))
            .ok_or_else(|| invalid("this Facebook Page link has no Page id")),
        // `/p/{Name}-{id}/`: the id is the part after the last dash.
        "p" => segments
            .get(1)
            .and_then(|slug| slug.rsplit('-').next())
            .filter(|id| is_numeric_id(id))
            .map(facebook_id)
            .ok_or_else(|| invalid("this Facebook profile link has no valid id")),
        numeric if is_numeric_id(numeric) => Ok(facebook_id(numeric)),
        reserved if FACEBOOK_RESERVED.contains(&reserved) || reserved.ends_with(".php") => {
            Err(not_a_profile(FACEBOOK_NOT_PROFILE))
        }
        _ => handle_account(Platform::Facebook, first),
    }
}

fn media(platform: Platform, media_id: &str, handle: Option<&str>, url: String) -> MediaRef {
    MediaRef {
        platform,
        media_id: media_id.to_owned(),
        handle: handle.map(str::to_owned),
        url,
    }
}

fn instagram_media(segments: &[&str]) -> Result<MediaRef, ParseAccountError> {
    let not_a_post =
        || not_a_post("this Instagram link is not a post or reel; paste the post's link");
    // Posts appear as `/{kind}/{code}/` or, under their author, `/{name}/{kind}/{code}/`.
    let (handle, kind, code) = match segments {
        ["stories", name, id, ..] => {
            if !is_valid_handle(Platform::Instagram, name) || !is_numeric_id(id) {
                return Err(not_a_post());
            }
            let url = format!("https://www.instagram.com/stories/{name}/{id}/");
            return Ok(media(Platform::Instagram, id, Some(name), url));
        }
        [kind, code, ..] if is_instagram_media_kind(kind) => (None, *kind, *code),
        [name, kind, code, ..] if is_instagram_media_kind(kind) => (Some(*name), *kind, *code),
        _ => return Err(not_a_post()),
    };
    if !is_code(code, 1, 64) || handle.is_some_and(|h| !is_valid_handle(Platform::Instagram, h)) {
        return Err(not_a_post());
    }
    let path = if kind == "reels" { "reel" } else { kind };
    let url = format!("https://www.instagram.com/{path}/{code}/");
    Ok(media(Platform::Instagram, code, handle, url))
}

fn is_instagram_media_kind(segment: &str) -> bool {
    matches!(segment, "p" | "reel" | "reels" | "tv")
}

fn tiktok_media(segments: &[&str]) -> Result<MediaRef, ParseAccountError> {
    match segments {
        [profile, kind @ ("video" | "photo"), id, ..] => {
            let handle = profile
                .strip_prefix('@')
                .filter(|h| is_valid_handle(Platform::Tiktok, h));
            match handle {
                Some(handle) if is_numeric_id(id) => {
                    let url = format!("https://www.tiktok.com/@{handle}/{kind}/{id}");
                    Ok(media(Platform::Tiktok, id, Some(handle), url))
                }
                _ => Err(invalid("this TikTok video link is not valid")),
            }
        }
        ["t", ..] => Err(invalid(SHORT_LINK)),
        _ => Err(not_a_post(
            "this TikTok link is not a video; paste the video's link",
        )),
    }
}

fn youtube_media(url: &Url, segments: &[&str]) -> Result<MediaRef, ParseAccountError> {
    match segments {
        ["watch", ..] => match query_value(url, "v") {
            Some(id) => youtube_video(&id),
            None => Err(invalid("this YouTube link has no video id")),
        },
        ["shorts" | "live" | "embed", id, ..] => youtube_video(id),
        _ => Err(not_a_post(
            "this YouTube link is not a video; paste the video's link",
        )),
    }
}

fn youtube_video(id: &str) -> Result<MediaRef, ParseAccountError> {
    if !is_code(id, 11, 11) {
        return Err(invalid("this YouTube video id is not valid"));
    }
    let url = format!("https://www.youtube.com/watch?v={id}");
    Ok(media(Platform::Youtube, id, None, url))
}

fn facebook_media(url: &Url, segments: &[&str]) -> Result<MediaRef, ParseAccountError> {
    let not_a_post =
        || not_a_post("this Facebook link is not a post or video; paste the post's link");
    match segments {
        ["watch", ..] => match query_value(url, "v") {
            Some(id) if is_numeric_id(&id) => {
                let url = format!("https://www.facebook.com/watch/?v={id}");
                Ok(media(Platform::Facebook, &id, None, url))
            }
            _ => Err(invalid("this Facebook video link has no valid video id")),
        },
        ["reel", id, ..] if is_numeric_id(id) => {
            let url = format!("https://www.facebook.com/reel/{id}");
            Ok(media(Platform::Facebook, id, None, url))
        }
        [page, kind @ ("posts" | "videos"), id, ..] => {
            let page_ok = is_numeric_id(page)
                || (is_valid_handle(Platform::Facebook, page)
                    && !FACEBOOK_RESERVED.contains(&page.to_ascii_lowercase().as_str()));
            // Post ids are numeric or `pfbid…` tokens; video ids are numeric.
            let id_ok = if *kind == "posts" {
                id.len() <= 100 && !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())
            } else {
                is_numeric_id(id)
            };
            if !page_ok || !id_ok {
                return Err(not_a_post());
            }
            let url = format!("https://www.facebook.com/{page}/{kind}/{id}");
            Ok(media(Platform::Facebook, id, Some(page), url))
        }
        _ => Err(not_a_post()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Platform::{Facebook, Instagram, Tiktok, Youtube};

    fn handle(value: &str) -> AccountKey {
        AccountKey::Handle(value.to_owned())
    }

    /// Parses and returns (platform, key, canonical url), or the error's code.
    fn parsed(
        input: &str,
        hint: Option<Platform>,
    ) -> Result<(Platform, AccountKey, String), &'static str> {
        parse_account(input, hint)
            .map(|account| {
                (
                    account.platform(),
                    account.key().clone(),
                    account.url().to_owned(),
                )
            })
            .map_err(|error| error.code())
    }

    #[test]
    fn every_supported_profile_form_parses_to_its_canonical_account() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<Platform>, Platform, AccountKey, &str)] = &[
            ("@name", Some(Instagram), Instagram, handle("name"), "https://www.instagram.com/name/"),
            ("name", Some(Tiktok), Tiktok, handle("name"), "https://www.tiktok.com/@name"),
            ("  @Name.Here  ", Some(Youtube), Youtube, handle("Name.Here"), "https://www.youtube.com/@Name.Here"),
            ("john.smith", Some(Facebook), Facebook, handle("john.smith"), "https://www.facebook.com/john.smith"),
            ("100012345", Some(Facebook), Facebook, AccountKey::FacebookId("100012345".into()), "https://www.facebook.com/profile.php?id=100012345"),
            ("https://www.instagram.com/name/", None, Instagram, handle("name"), "https://www.instagram.com/name/"),
            ("instagram.com/name?igsh=abc", None, Instagram, handle("name"), "https://www.instagram.com/name/"),
            ("http://instagram.com/Name", None, Instagram, handle("Name"), "https://www.instagram.com/Name/"),
            ("https://www.instagram.com/name/reels/", None, Instagram, handle("name"), "https://www.instagram.com/name/"),
            ("https://m.instagram.com/name", Some(Instagram), Instagram, handle("name"), "https://www.instagram.com/name/"),
            ("https://instagr.am/name", None, Instagram, handle("name"), "https://www.instagram.com/name/"),
            ("https://www.instagram.com/stories/name/3141592653589793238/", None, Instagram, handle("name"), "https://www.instagram.com/name/"),
            ("https://www.tiktok.com/@name", None, Tiktok, handle("name"), "https://www.tiktok.com/@name"),
            ("tiktok.com/@name?lang=en", None, Tiktok, handle("name"), "https://www.tiktok.com/@name"),
            ("https://m.tiktok.com/@name/video/123", None, Tiktok, handle("name"), "https://www.tiktok.com/@name"),
            ("https://www.youtube.com/@name", None, Youtube, handle("name"), "https://www.youtube.com/@name"),
            ("youtube.com/@name/videos", None, Youtube, handle("name"), "https://www.youtube.com/@name"),
            ("m.youtube.com/@name", None, Youtube, handle("name"), "https://www.youtube.com/@name"),
            ("https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv", None, Youtube, AccountKey::ChannelId("UCabcdefghijklmnopqrstuv".into()), "https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv"),
            ("https://www.youtube.com/c/name", None, Youtube, AccountKey::YoutubeCustom("name".into()), "https://www.youtube.com/c/name"),
            ("youtube.com/user/name/featured", None, Youtube, AccountKey::YoutubeUser("name".into()), "https://www.youtube.com/user/name"),
            ("facebook.com/name.page", None, Facebook, handle("name.page"), "https://www.facebook.com/name.page"),
            ("https://www.facebook.com/name.page/", None, Facebook, handle("name.page"), "https://www.facebook.com/name.page"),
            ("https://m.facebook.com/name.page", None, Facebook, handle("name.page"), "https://www.facebook.com/name.page"),
            ("fb.com/name.page", None, Facebook, handle("name.page"), "https://www.facebook.com/name.page"),
            ("https://www.facebook.com/name.page/posts/123", None, Facebook, handle("name.page"), "https://www.facebook.com/name.page"),
            ("facebook.com/profile.php?id=100012345", None, Facebook, AccountKey::FacebookId("100012345".into()), "https://www.facebook.com/profile.php?id=100012345"),
            ("https://www.facebook.com/pages/Some-Name/12345", None, Facebook, AccountKey::FacebookId("12345".into()), "https://www.facebook.com/profile.php?id=12345"),
            ("https://www.facebook.com/people/Some-Name/100012345/", None, Facebook, AccountKey::FacebookId("100012345".into()), "https://www.facebook.com/profile.php?id=100012345"),
            ("https://www.facebook.com/p/Some-Name-100012345/", None, Facebook, AccountKey::FacebookId("100012345".into()), "https://www.facebook.com/profile.php?id=100012345"),
            ("https://www.facebook.com/100012345", None, Facebook, AccountKey::FacebookId("100012345".into()), "https://www.facebook.com/profile.php?id=100012345"),
        ];
        for (input, hint, platform, key, url) in cases {
            assert_eq!(
                parsed(input, *hint),
                Ok((*platform, key.clone(), (*url).to_owned())),
                "input {input:?} with hint {hint:?}"
            );
        }
    }

    #[test]
    fn garbage_and_non_profile_links_are_refused_with_the_right_error() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<Platform>, &str)] = &[
            ("", None, "INVALID_URL"),
            ("   ", Some(Instagram), "INVALID_URL"),
            ("@", Some(Instagram), "INVALID_URL"),
            ("https://", None, "INVALID_URL"),
            ("instagram.com/", None, "INVALID_URL"),
            ("instagram.com", None, "INVALID_URL"),
            ("javascript:alert(1)", None, "INVALID_URL"),
            ("javascript:alert(1)", Some(Instagram), "INVALID_URL"),
            ("ftp://instagram.com/name", None, "INVALID_URL"),
            ("name", None, "AMBIGUOUS_PLATFORM"),
            ("@name", None, "AMBIGUOUS_PLATFORM"),
            ("not a handle!", None, "INVALID_URL"),
            ("bad name", Some(Instagram), "INVALID_URL"),
            ("na-me", Some(Instagram), "INVALID_URL"),
            ("a", Some(Tiktok), "INVALID_URL"),
            ("ab", Some(Youtube), "INVALID_URL"),
            ("name", Some(Facebook), "INVALID_URL"),
            ("under_score", Some(Facebook), "INVALID_URL"),
            ("...", Some(Instagram), "INVALID_URL"),
            ("this_handle_is_far_too_long_for_instagram", Some(Instagram), "INVALID_URL"),
            ("https://www.instagram.com/na%20me/", None, "INVALID_URL"),
            ("https://www.tiktok.com/@", None, "INVALID_URL"),
            ("https://www.youtube.com/channel/UCshort", None, "INVALID_URL"),
            ("https://www.facebook.com/profile.php", None, "INVALID_URL"),
            ("https://example.com/x", None, "UNSUPPORTED_PLATFORM"),
            ("https://instagram.com.evil.example/name", None, "UNSUPPORTED_PLATFORM"),
            ("https://instagram.com@evil.example/name", None, "UNSUPPORTED_PLATFORM"),
            ("instagram.com/p/ABC/", None, "NOT_A_PROFILE"),
            ("https://www.instagram.com/reel/ABC/", None, "NOT_A_PROFILE"),
            ("instagram.com/explore/", None, "NOT_A_PROFILE"),
            ("https://vm.tiktok.com/ZMabc/", None, "NOT_A_PROFILE"),
            ("https://www.tiktok.com/t/ZTabc/", None, "NOT_A_PROFILE"),
            ("https://www.tiktok.com/discover/cats", None, "NOT_A_PROFILE"),
            ("https://youtu.be/dQw4w9WgXcQ", None, "NOT_A_PROFILE"),
            ("youtube.com/watch?v=dQw4w9WgXcQ", None, "NOT_A_PROFILE"),
            ("https://www.youtube.com/shorts/dQw4w9WgXcQ", None, "NOT_A_PROFILE"),
            ("https://www.youtube.com/feed/trending", None, "NOT_A_PROFILE"),
            ("https://www.facebook.com/watch/?v=123", None, "NOT_A_PROFILE"),
            ("https://www.facebook.com/groups/12345", None, "NOT_A_PROFILE"),
            ("https://www.facebook.com/story.php?story_fbid=1&id=2", None, "NOT_A_PROFILE"),
            ("https://fb.watch/abc/", None, "NOT_A_PROFILE"),
            ("https://www.tiktok.com/@name", Some(Instagram), "PLATFORM_MISMATCH"),
            ("https://youtu.be/dQw4w9WgXcQ", Some(Tiktok), "PLATFORM_MISMATCH"),
        ];
        for (input, hint, code) in cases {
            assert_eq!(
                parsed(input, *hint),
                Err(*code),
                "input {input:?} with hint {hint:?}"
            );
        }
    }

    #[test]
    fn a_bare_handle_without_a_platform_asks_which_platform() {
        let error = parse_account("name", None).expect_err("a bare handle needs a platform");
        assert_eq!(error, ParseAccountError::AmbiguousPlatform);
        assert!(error.to_string().contains("which platform"));
    }

    #[test]
    fn a_link_for_another_platform_than_asked_says_which_is_which() {
        let error = parse_account("https://www.tiktok.com/@name", Some(Instagram))
            .expect_err("a TikTok link is not an Instagram account");
        assert_eq!(
            error.to_string(),
            "this link is for TikTok, but an account on Instagram was asked for"
        );
    }

    #[test]
    fn a_matching_platform_hint_is_accepted_with_a_link() {
        let account = parse_account("instagram.com/name", Some(Instagram)).expect("matching hint");
        assert_eq!(account.platform(), Instagram);
    }

    #[test]
    fn handles_keep_their_case_for_display_and_are_lowercased_for_uniqueness() {
        let account = parse_account("https://www.instagram.com/Some.Name_/", None).expect("valid");
        assert_eq!(account.handle(), "Some.Name_");
        assert_eq!(account.handle_lower(), "some.name_");
        assert_eq!(account.url(), "https://www.instagram.com/Some.Name_/");
    }

    #[test]
    fn the_same_account_typed_three_ways_has_one_uniqueness_key() {
        let typed = [
            "@CreatorName",
            "tiktok.com/@creatorname?lang=en",
            "https://m.tiktok.com/@CREATORNAME/video/1",
        ];
        let keys: Vec<String> = typed
            .iter()
            .map(|input| {
                parse_account(input, Some(Tiktok))
                    .expect("valid")
                    .handle_lower()
            })
            .collect();
        assert!(keys.iter().all(|key| key == "creatorname"), "{keys:?}");
    }

    #[test]
    fn errors_speak_to_the_person_who_typed_the_input() {
        let short = parse_account("https://vm.tiktok.com/ZMabc/", None).expect_err("short link");
        assert!(short.to_string().contains("short links"), "{short}");
        let video = parse_account("https://youtu.be/dQw4w9WgXcQ", None).expect_err("video link");
        assert!(
            video.to_string().contains("a video link is not a channel"),
            "{video}"
        );
        let site = parse_account("https://example.com/x", None).expect_err("other site");
        assert_eq!(
            site.to_string(),
            "example.com is not supported; use an Instagram, Facebook, TikTok or YouTube link"
        );
        let bad = parse_account("bad name", Some(Tiktok)).expect_err("bad handle");
        assert_eq!(
            bad.to_string(),
            "this is not a valid TikTok handle; a handle has 2 to 24 letters, digits, dots or underscores"
        );
    }

    /// Parses and returns (platform, media id, handle, canonical url), or the error's code.
    fn media_parsed(
        input: &str,
    ) -> Result<(Platform, String, Option<String>, String), &'static str> {
        parse_media_url(input)
            .map(|m| {
                (
                    m.platform(),
                    m.media_id().to_owned(),
                    m.handle().map(str::to_owned),
                    m.url().to_owned(),
                )
            })
            .map_err(|error| error.code())
    }

    #[test]
    fn every_supported_media_link_parses_to_its_platform_id_and_author() {
        #[rustfmt::skip]
        let cases: &[(&str, Platform, &str, Option<&str>, &str)] = &[
            ("https://www.instagram.com/p/CxYz_12-ab/", Instagram, "CxYz_12-ab", None, "https://www.instagram.com/p/CxYz_12-ab/"),
            ("instagram.com/reel/CxYz123/?igsh=abc", Instagram, "CxYz123", None, "https://www.instagram.com/reel/CxYz123/"),
            ("https://www.instagram.com/reels/CxYz123/", Instagram, "CxYz123", None, "https://www.instagram.com/reel/CxYz123/"),
            ("https://www.instagram.com/tv/CxYz123", Instagram, "CxYz123", None, "https://www.instagram.com/tv/CxYz123/"),
            ("https://www.instagram.com/Name/p/CxYz123/", Instagram, "CxYz123", Some("Name"), "https://www.instagram.com/p/CxYz123/"),
            ("https://www.instagram.com/stories/name/3141592653589793238/", Instagram, "3141592653589793238", Some("name"), "https://www.instagram.com/stories/name/3141592653589793238/"),
            ("https://www.tiktok.com/@Name/video/7234567890123456789?lang=en", Tiktok, "7234567890123456789", Some("Name"), "https://www.tiktok.com/@Name/video/7234567890123456789"),
            ("https://m.tiktok.com/@name/photo/7234567890", Tiktok, "7234567890", Some("name"), "https://www.tiktok.com/@name/photo/7234567890"),
            ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", Youtube, "dQw4w9WgXcQ", None, "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
            ("youtu.be/dQw4w9WgXcQ?si=xyz", Youtube, "dQw4w9WgXcQ", None, "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
            ("https://www.youtube.com/shorts/dQw4w9WgXcQ", Youtube, "dQw4w9WgXcQ", None, "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
            ("https://m.youtube.com/live/dQw4w9WgXcQ", Youtube, "dQw4w9WgXcQ", None, "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
            ("https://www.youtube.com/embed/dQw4w9WgXcQ", Youtube, "dQw4w9WgXcQ", None, "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
            ("https://www.facebook.com/name.page/posts/123456789", Facebook, "123456789", Some("name.page"), "https://www.facebook.com/name.page/posts/123456789"),
            ("https://www.facebook.com/name.page/posts/pfbid02abcXYZ", Facebook, "pfbid02abcXYZ", Some("name.page"), "https://www.facebook.com/name.page/posts/pfbid02abcXYZ"),
            ("https://www.facebook.com/name.page/videos/987654321/", Facebook, "987654321", Some("name.page"), "https://www.facebook.com/name.page/videos/987654321"),
            ("https://www.facebook.com/watch/?v=987654321", Facebook, "987654321", None, "https://www.facebook.com/watch/?v=987654321"),
            ("https://www.facebook.com/reel/987654321", Facebook, "987654321", None, "https://www.facebook.com/reel/987654321"),
        ];
        for (input, platform, id, handle, url) in cases {
            assert_eq!(
                media_parsed(input),
                Ok((
                    *platform,
                    (*id).to_owned(),
                    handle.map(str::to_owned),
                    (*url).to_owned()
                )),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn links_that_are_not_media_are_refused_with_the_right_error() {
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("", "INVALID_URL"),
            ("@name", "INVALID_URL"),
            ("javascript:alert(1)", "INVALID_URL"),
            ("https://example.com/p/ABC/", "UNSUPPORTED_PLATFORM"),
            ("https://www.instagram.com/name/", "NOT_A_POST"),
            ("https://www.instagram.com/p/", "NOT_A_POST"),
            ("https://www.tiktok.com/@name", "NOT_A_POST"),
            ("https://www.tiktok.com/@name/video/abc", "INVALID_URL"),
            ("https://vm.tiktok.com/ZMabc/", "INVALID_URL"),
            ("https://www.youtube.com/@name", "NOT_A_POST"),
            ("https://www.youtube.com/watch?list=PL123", "INVALID_URL"),
            ("https://youtu.be/short", "INVALID_URL"),
            ("https://www.facebook.com/name.page", "NOT_A_POST"),
            ("https://www.facebook.com/watch/?v=abc", "INVALID_URL"),
            ("https://fb.watch/abc/", "INVALID_URL"),
        ];
        for (input, code) in cases {
            assert_eq!(media_parsed(input), Err(*code), "input {input:?}");
        }
    }
}
