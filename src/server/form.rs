//! A form as a browser posts it (`application/x-www-form-urlencoded`): every pair in order, so
//! a field may repeat (the queue's checkboxes).

pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

impl Form {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Form {
        Form(pairs)
    }
}
