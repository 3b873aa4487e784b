//! Static vocabularies: names, skills, cities, clients, month names.

/// Common French last names: drawn with repetition, so most of them end up shared by several freelancers.
pub(crate) const COMMON_NOMS: &[&str] = &[
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefèvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefebvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Roussel",
    "Henry",
    "Rivière",
    "Mathieu",
    "Clément",
    "Gaillard",
    "Brunet",
    "Nicolas",
    "Masson",
    "Marchand",
];

/// Rarer last names, combined into compound names ("Aubert-Vidal") that are almost always unique.
pub(crate) const RARE_NOMS: &[&str] = &[
    "Aubert",
    "Vidal",
    "Carpentier",
    "Lemaire",
    "Renaud",
    "Dumas",
    "Lacroix",
    "Olivier",
    "Philippe",
    "Bourgeois",
    "Pierre",
    "Benoît",
    "Rey",
    "Leclerc",
    "Payet",
    "Rolland",
    "Leclercq",
    "Guillaume",
    "Lecomte",
    "Lopez",
    "Jean",
    "Dupuy",
    "Guillot",
    "Hubert",
    "Berger",
    "Carré",
    "Moulin",
    "Louis",
    "Deschamps",
    "Huet",
];

/// Last names reserved for invalid-only profiles (ids that never get a valid record); never used for valid ones.
pub(crate) const GHOST_NOMS: &[&str] = &[
    "Fantôme",
    "Spectre",
    "Nullepart",
    "Personne",
    "Absent",
    "Errant",
];

pub(crate) const PRENOMS: &[&str] = &[
    "Jean", "Marie", "Pierre", "Sophie", "Lucas", "Camille", "Hugo", "Léa", "Louis", "Chloé",
    "Nathan", "Manon", "Thomas", "Emma", "Julien", "Sarah", "Antoine", "Inès", "Maxime", "Clara",
    "Nicolas", "Hélène", "Karim", "Amina", "Mathieu", "Élodie", "Romain", "Julie", "Yanis",
    "Céline", "Paul", "Anaïs",
];

/// (skill, popularity weight, daily-rate premium in euros).
pub(crate) const SKILLS: &[(&str, f64, u32)] = &[
    ("Python", 20.0, 40),
    ("SQL", 18.0, 10),
    ("JavaScript", 12.0, 10),
    ("Java", 10.0, 40),
    ("React", 10.0, 30),
    ("TypeScript", 9.0, 30),
    ("AWS", 9.0, 90),
    ("Docker", 8.0, 40),
    ("Node.js", 6.0, 30),
    ("Kubernetes", 6.0, 110),
    ("Data Science", 6.0, 100),
    ("DevOps", 6.0, 80),
    ("Azure", 5.0, 80),
    ("Power BI", 5.0, 20),
    ("Machine Learning", 5.0, 120),
    ("Go", 4.0, 80),
    ("Spark", 4.0, 100),
    ("Figma", 4.0, 0),
    ("SAP", 4.0, 160),
    ("PHP", 4.0, 0),
    ("Terraform", 4.0, 70),
    ("Rust", 3.0, 120),
    ("Scala", 2.0, 90),
];

/// (city, weight)
pub(crate) const CITIES: &[(&str, f64)] = &[
    ("Paris", 35.0),
    ("Lyon", 10.0),
    ("Marseille", 6.0),
    ("Toulouse", 7.0),
    ("Bordeaux", 6.0),
    ("Lille", 6.0),
    ("Nantes", 7.0),
    ("Strasbourg", 3.0),
    ("Montpellier", 4.0),
    ("Rennes", 5.0),
    ("Nice", 3.0),
    ("Grenoble", 3.0),
    ("Aix-en-Provence", 2.0),
    ("Saint-Étienne", 1.0),
];

/// Client names; some contain the `,` delimiter or a `"` so the CSV writer must quote them.
pub(crate) const CLIENTS: &[&str] = &[
    "BNP Paribas",
    "Société Générale",
    "Airbus",
    "Decathlon",
    "Orange",
    "SNCF",
    "Leroy Merlin",
    "Doctolib",
    "BlaBlaCar",
    "Back Market",
    "Qonto",
    "Alan",
    "Ubisoft",
    "Michelin",
    "Renault",
    "Carrefour",
    "L'Oréal",
    "Dupont & Fils, SARL",
    "Café \"Le Zinc\"",
    "Ministère des Armées",
    "La Poste",
    "EDF",
    "Thales",
    "Capgemini",
];

pub(crate) const DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.fr",
    "yahoo.fr",
    "proton.me",
    "free.fr",
    "orange.fr",
    "laposte.net",
];

pub(crate) const MONTHS_EN_ABBR: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
pub(crate) const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(crate) const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// Seasonality of the number of invoices per calendar month (index 0 = January): summer and Christmas dips,
/// September and January peaks.
pub(crate) const SEASON: [f64; 12] = [
    1.12, 1.00, 1.05, 1.00, 0.95, 1.00, 0.92, 0.60, 1.15, 1.08, 1.04, 0.80,
];

/// Monthly growth of the invoice volume.
pub(crate) const TREND_PER_MONTH: f64 = 1.015;

/// ASCII-fold the few accented letters used in the vocabularies (for e-mail addresses).
pub(crate) fn ascii_fold(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'à' | 'â' | 'ä' => Some('a'),
            'é' | 'è' | 'ê' | 'ë' | 'É' => Some('e'),
            'î' | 'ï' => Some('i'),
            'ô' | 'ö' => Some('o'),
            'ù' | 'û' | 'ü' => Some('u'),
            'ç' => Some('c'),
            ' ' | '\'' => None,
            c => Some(c.to_ascii_lowercase()),
        })
        .collect()
}
