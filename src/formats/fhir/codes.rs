//! The code lists flspost's FHIR messages use, embedded from MedCom's terminology package
//! `medcom.fhir.dk.terminology` 2.0.1 (the version CareCommunication 5.0.x depends on):
//! the required bindings are checked against these, and author titles are mapped with them.

pub(crate) const CATEGORY_SYSTEM: &str =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-careCommunication-categoryCodes";
pub(crate) const EVENT_SYSTEM: &str = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes";
pub(crate) const ACTIVITY_SYSTEM: &str =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes";
pub(crate) const DESTINATION_USE_SYSTEM: &str =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse";
pub const ROLE_SYSTEM: &str =
    "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-core-PractitionerRolesSKSadministrativ";

/// The category of an FLS result copy (research note §5: a DXA result to the GP is an
/// examination result; `examination-results`, da. Undersøgelsessvar).
pub const FLS_CATEGORY: &str = "examination-results";

/// ValueSet `medcom-careCommunication-categories` (the whole CodeSystem, 1.9.0): code, Danish display.
pub(crate) const CATEGORIES: &[(&str, &str)] = &[
    ("alcohol-and-drug-treatment", "Rusmiddelbehandling"),
    ("assistive-devices", "Hjælpemidler"),
    ("carecoordination", "Forløbskoordinering"),
    ("decease", "Dødsfald"),
    ("discharge", "Udskrivelse"),
    ("examination-results", "Undersøgelsessvar"),
    ("healthcare", "Sundhedspleje"),
    ("home-care-assessment", "Visitation"),
    ("medicine", "Medicin"),
    ("nursing", "Sygepleje"),
    ("outpatient", "Ambulant"),
    ("psychiatry-social-disability", "Psykiatri, social, handicap"),
    ("regarding-referral", "Vedr. henvisning"),
    ("telemedicine", "Telemedicin"),
    ("training", "Træning"),
    ("acute-ambulant", "Akut ambulant"),
    ("extended-care-responsibility", "Udvidet behandlingsansvar"),
    ("other", "Andet"),
];

/// ValueSet `medcom-careCommunication-messagingActivities`.
pub(crate) const CC_ACTIVITIES: &[&str] = &["new-message", "reply-message", "forward-message"];
/// ValueSet `medcom-careCommunication-requestPriority`.
pub(crate) const PRIORITIES: &[&str] = &["routine", "asap"];
/// ValueSet `medcom-core-attachmentMimeTypes`.
pub(crate) const ATTACHMENT_MIME_TYPES: &[&str] =
    &["application/pdf", "image/gif", "image/jpeg", "image/png", "image/tiff", "image/bmp"];
/// ValueSet `medcom-messaging-messageTypes`.
pub(crate) const MESSAGE_TYPES: &[&str] = &[
    "empty-message",
    "care-communication-message",
    "hospital-notification-message",
    "acknowledgement-message",
    "homecareobservation-message",
];
/// `MessageHeader.response.code` (FHIR R4 `response-code`, required).
pub(crate) const RESPONSE_CODES: &[&str] = &["ok", "transient-error", "fatal-error"];

/// CodeSystem `medcom-core-PractitionerRolesSKSadministrativ`: code, display. The three
/// misspelt duplicates the CodeSystem also carries (`socialogsundhedsmehjaelper`,
/// `pyskolog`, `sygeplejesekretear`) are left out: a title maps to the correct spelling.
pub const ROLES: &[(&str, &str)] = &[
    ("speciallaege", "Speciallæge"),
    ("speciallaegeipraksis", "Speciallæge i praksis"),
    ("cheflaege", "Cheflæge"),
    ("overlaege", "Overlæge"),
    ("afdelingslaege", "Afdelingslæge"),
    ("sygehuslaege", "Sygehuslæge"),
    ("sygeplejerske", "Sygeplejerske"),
    ("sundhedsplejerske", "Sundhedsplejerske"),
    ("socialogsundhedsassistent", "Social- og sundhedsassistent"),
    ("socialogsundhedsmedhjaelper", "Social- og sundhedsmedhjælper"),
    ("sygehjaelper", "Sygehjælper"),
    ("plejer", "Plejer"),
    ("plejehjemsassistent", "Plejehjemsassistent"),
    ("tandlaege", "Tandlæge"),
    ("klinisktandtekniker", "Klinisk tandtekniker"),
    ("tandplejer", "Tandplejer"),
    ("farmaceut", "Farmaceut"),
    ("apoteker", "Apoteker"),
    ("psykolog", "Psykolog"),
    ("jordemoder", "Jordemoder"),
    ("fysioterapeut", "Fysioterapeut"),
    ("ergoterapeut", "Ergoterapeut"),
    ("bioanalytiker", "Bioanalytiker"),
    ("radiograf", "Radiograf"),
    ("diaetist", "Diætist"),
    ("diaetistassistent", "Diætistassistent"),
    ("audilogiassistent", "Audilogiassistent"),
    ("neurofysiologassistent", "Neurofysiologassistent"),
    ("kiropraktor", "Kiropraktor"),
    ("zoneterapeut", "Zoneterapeut"),
    ("psykoterapeut", "Psykoterapeut"),
    ("audiologopaed", "Audiologopæd"),
    ("laegesekretaer", "Lægesekretær"),
    ("ledendelaegesekretaer", "Ledende lægesekretær"),
    ("sygeplejesekretaer", "Sygeplejesekretær"),
    ("fodterapeut", "Fodterapeut"),
    ("socialraadgiver", "Socialrådgiver"),
    ("ledendesocialraadgiver", "Ledende socialrådgiver"),
    ("laerer", "Lærer"),
    ("paedagog", "Pædagog"),
    ("beskaeftigelsesvejleder", "Beskæftigelsesvejleder"),
    ("bandagist", "Bandagist"),
    ("skomager", "Skomager"),
    ("optiker", "Optiker"),
];

/// The role code for an author title, when the title names one of MedCom's roles: the part
/// before the first comma (`Overlæge, ph.d.` -> `overlaege`), compared without case. Other
/// titles travel as `PractitionerRole.code.text` (cc-7 allows exactly one of the two).
pub(crate) fn role_for_title(title: &str) -> Option<(&'static str, &'static str)> {
    let head = title.split(',').next().unwrap_or("").trim().to_lowercase();
    ROLES.iter().copied().find(|(_, display)| display.to_lowercase() == head)
}

pub(crate) fn category_display(code: &str) -> Option<&'static str> {
    CATEGORIES.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_map_on_their_first_part_without_case() {
        assert_eq!(role_for_title("Overlæge, ph.d."), Some(("overlaege", "Overlæge")));
        assert_eq!(role_for_title("overlæge"), Some(("overlaege", "Overlæge")));
        assert_eq!(role_for_title("Social- og sundhedsassistent").unwrap().0, "socialogsundhedsassistent");
        assert_eq!(role_for_title("Professor, overlæge"), None);
        assert_eq!(role_for_title("Klinisk assistent"), None);
    }

    #[test]
    fn every_role_display_maps_back_to_its_code() {
        for (code, display) in ROLES {
            assert_eq!(role_for_title(display).map(|r| r.0), Some(*code));
        }
    }
}
